#ifndef CRESOLV_H
#define CRESOLV_H

/// One MX record: preference and exchange host name (NUL-terminated, without the trailing dot).
typedef struct {
    int preference;
    char host[1025];
} tern_mx_record;

/// Outcome of a lookup, as smtp(8) distinguishes them.
enum {
    TERN_DNS_OK = 0,          /* records found (count returned) */
    TERN_DNS_NO_DATA = 1,     /* the name exists but has no record of that type */
    TERN_DNS_NOT_FOUND = 2,   /* NXDOMAIN: Host or domain name not found */
    TERN_DNS_TRY_AGAIN = 3,   /* temporary failure (SERVFAIL, timeout, no server) */
    TERN_DNS_FAILURE = 4      /* other permanent failure */
};

/// Looks up the MX records of `name` through the system resolver (res_nquery, /etc/resolv.conf).
/// Writes up to `max` records to `out`, sets *count, returns one of TERN_DNS_*.
int tern_mx_query(const char *name, tern_mx_record *out, int max, int *count);

/// Looks up the A records of `name`; addresses as host-order 32-bit numbers.
int tern_a_query(const char *name, unsigned int *out, int max, int *count);

/// Looks up the TXT records of `name`, joined with " / " into `out` (NUL-terminated, at most size-1 bytes).
int tern_txt_query(const char *name, char *out, int size);

#endif
