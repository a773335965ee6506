/* el_control_proto.h — limits of the control protocol (proto/el_control.proto)
 * that the server (daemon/el_control.h) and its clients (client/) share. */
#ifndef EL_CONTROL_PROTO_H
#define EL_CONTROL_PROTO_H

#include "el_control.pb-c.h"
#include "el_entry.h"

#define EL_CONTROL_FRAME_MAX    (32u << 20) /* one request or reply, bytes */
#define EL_CONTROL_LIST_DEFAULT 1000        /* records per list page */
#define EL_CONTROL_LIST_MAX     10000       /* records per list page, at most */
#define EL_CONTROL_GET_OTHERS_MAX 64        /* GetReply.others: more origins with the key */
#define EL_CONTROL_WAITS_MAX    256         /* WaitRequests waiting at once per daemon */
#define EL_CONTROL_WAIT_DEFAULT_MS 30000    /* WaitRequest.timeout_ms 0 */
#define EL_CONTROL_WAIT_MAX_MS  300000      /* longest WaitRequest.timeout_ms */
/* ListReply.next / ListRequest.after_time, bytes: a by_time key (prefix,
 * start, origin, record key; el_store_window) */
#define EL_CONTROL_CURSOR_MAX   (1 + 8 + EL_KEY_BYTES + EL_RECORD_KEY_MAX)
#define EL_CONTROL_BATCH        16          /* requests handled per el_control_handle() */
#define EL_CONTROL_FILE_MODE    0660        /* mode of an ipc:// socket file */
#define EL_CONTROL_DIR_MODE     0750        /* mode of the short folder of a long path */
/* The longest ipc:// path the kernel binds (sockaddr_un.sun_path, 108 bytes
 * with its NUL). A control socket whose path is longer is bound in a short
 * private folder (under $XDG_RUNTIME_DIR, else /tmp) and the long path is a
 * symbolic link to it, which clients follow (client/el_control_call.h). */
#define EL_IPC_PATH_MAX         107

#endif
