/* el_control_proto.h — limits of the control protocol (proto/el_control.proto)
 * that the server (daemon/el_control.h) and its clients (client/) share. */
#ifndef EL_CONTROL_PROTO_H
#define EL_CONTROL_PROTO_H

#include "el_control.pb-c.h"
#include "el_entry.h"

#define EL_CONTROL_FRAME_MAX    (32u << 20) /* one request or reply, bytes */
#define EL_CONTROL_LIST_DEFAULT 1000        /* records per list page */
#define EL_CONTROL_LIST_MAX     10000       /* records per list page, at most */
#define EL_CONTROL_BATCH        16          /* requests handled per el_control_handle() */
#define EL_CONTROL_FILE_MODE    0660        /* mode of an ipc:// socket file */

#endif
