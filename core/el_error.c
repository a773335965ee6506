/* el_error.c — names of entrelab, errno and LMDB status codes. */
#include "el_error.h"

#include <lmdb.h>
#include <string.h>

static const struct {
    int code;
    const char *name;
    const char *text;
} s_codes[] = {
    { EL_ETOOBIG, "too_big", "message, entry, payload or key over its size cap" },
    { EL_EPROTO, "malformed", "malformed message or field of the wrong size" },
    { EL_EBADSIG, "bad_signature", "signature does not verify" },
    { EL_ENETWORK, "wrong_network", "entry or peer belongs to a network we do not accept" },
    { EL_EGAP, "gap", "seq beyond the origin's head + 1 (a hole in its log)" },
    { EL_EFORK, "fork", "same origin and seq with a different hash (fork)" },
    { EL_EPREV, "bad_prev", "prev does not match the hash of the previous entry" },
    { EL_EQUARANTINE, "quarantined", "origin is quarantined after a fork" },
    { EL_ESTORE, "bad_store", "store is corrupt, foreign or of a newer schema" },
    { EL_EMAPFULL, "store_full", "store reached its configured size limit" },
    { EL_EKEYPERM, "key_permissions", "secret key file is accessible by group or others (chmod 600)" },
    { EL_EKEYFORMAT, "bad_key", "key text or key file is malformed" },
    { EL_EUNVERIFIED, "unverified", "entry or stub cannot be authenticated" },
    { EL_ENOTFOUND, "not_found", "no such record" },
    { EL_EREVOKED, "revoked", "site was revoked" },
    { EL_EVERSION, "bad_version", "incompatible protocol version" },
    { EL_ECREDIT, "over_credit", "peer sent more entries than the credit granted" },
    { EL_EINVAL, "invalid", "invalid argument" },
    { EL_ENOTADMITTED, "not_admitted", "origin is not attested by an accepted network" },
    { EL_EPOLICY, "outside_policy", "entry of a kind the federation link does not accept" },
    { EL_EFUTURE, "future_time", "entry dated more than a day after this site's clock" },
    { EL_ENOTOWNER, "not_owner", "record its origin may not write (a booking of another's equipment, a site's Site record)" },
};

static int
s_find (int rc)
{
    for (size_t i = 0; i < sizeof s_codes / sizeof s_codes[0]; i++)
        if (s_codes[i].code == rc)
            return (int) i;
    return -1;
}

const char *
el_strerror (int rc)
{
    if (rc == 0)
        return "success";
    int i = s_find (rc);
    if (i >= 0)
        return s_codes[i].text;
    if (rc <= MDB_KEYEXIST && rc >= MDB_LAST_ERRCODE)
        return mdb_strerror (rc);
    if (rc < 0 && rc > -4096)
        return strerror (-rc);
    return "unknown error";
}

const char *
el_strcode (int rc)
{
    if (rc == 0)
        return "ok";
    int i = s_find (rc);
    if (i >= 0)
        return s_codes[i].name;
    if (rc <= MDB_KEYEXIST && rc >= MDB_LAST_ERRCODE)
        return "store_error";
    if (rc < 0 && rc > -4096)
        return "system_error";
    return "unknown";
}
