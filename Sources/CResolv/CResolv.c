#include "CResolv.h"
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>

int tern_mx_query(const char *name, tern_mx_record *out, int max, int *count) {
    struct __res_state state;
    unsigned char answer[65536];
    *count = 0;
    memset(&state, 0, sizeof state);
    if (res_ninit(&state) != 0) return TERN_DNS_TRY_AGAIN;
    int len = res_nquery(&state, name, ns_c_in, ns_t_mx, answer, sizeof answer);
    int herr = state.res_h_errno;
    res_nclose(&state);
    if (len < 0) {
        switch (herr) {
        case HOST_NOT_FOUND: return TERN_DNS_NOT_FOUND;
        case NO_DATA: return TERN_DNS_NO_DATA;
        case TRY_AGAIN: return TERN_DNS_TRY_AGAIN;
        default: return TERN_DNS_FAILURE;
        }
    }
    ns_msg msg;
    if (ns_initparse(answer, len, &msg) < 0) return TERN_DNS_TRY_AGAIN;
    int n = ns_msg_count(msg, ns_s_an);
    for (int i = 0; i < n && *count < max; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) continue;
        if (ns_rr_type(rr) != ns_t_mx || ns_rr_rdlen(rr) < 3) continue;
        const unsigned char *rdata = ns_rr_rdata(rr);
        tern_mx_record *record = &out[*count];
        record->preference = (rdata[0] << 8) | rdata[1];
        if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rdata + 2, record->host, sizeof record->host) < 0) continue;
        (*count)++;
    }
    return *count > 0 ? TERN_DNS_OK : TERN_DNS_NO_DATA;
}

/* One query through the system resolver; returns the answer length or -1 with *status set. */
static int tern_query(const char *name, int type, unsigned char *answer, int size, int *status) {
    struct __res_state state;
    memset(&state, 0, sizeof state);
    if (res_ninit(&state) != 0) { *status = TERN_DNS_TRY_AGAIN; return -1; }
    int len = res_nquery(&state, name, ns_c_in, type, answer, size);
    int herr = state.res_h_errno;
    res_nclose(&state);
    if (len < 0) {
        switch (herr) {
        case HOST_NOT_FOUND: *status = TERN_DNS_NOT_FOUND; break;
        case NO_DATA: *status = TERN_DNS_NO_DATA; break;
        case TRY_AGAIN: *status = TERN_DNS_TRY_AGAIN; break;
        default: *status = TERN_DNS_FAILURE; break;
        }
        return -1;
    }
    *status = TERN_DNS_OK;
    return len;
}

int tern_a_query(const char *name, unsigned int *out, int max, int *count) {
    unsigned char answer[65536];
    int status;
    *count = 0;
    int len = tern_query(name, ns_t_a, answer, sizeof answer, &status);
    if (len < 0) return status;
    ns_msg msg;
    if (ns_initparse(answer, len, &msg) < 0) return TERN_DNS_TRY_AGAIN;
    int n = ns_msg_count(msg, ns_s_an);
    for (int i = 0; i < n && *count < max; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) continue;
        if (ns_rr_type(rr) != ns_t_a || ns_rr_rdlen(rr) != 4) continue;
        const unsigned char *rdata = ns_rr_rdata(rr);
        out[(*count)++] = ((unsigned) rdata[0] << 24) | ((unsigned) rdata[1] << 16) | ((unsigned) rdata[2] << 8) | rdata[3];
    }
    return *count > 0 ? TERN_DNS_OK : TERN_DNS_NO_DATA;
}

int tern_txt_query(const char *name, char *out, int size) {
    unsigned char answer[65536];
    int status;
    int used = 0;
    if (size <= 0) return TERN_DNS_FAILURE;
    out[0] = 0;
    int len = tern_query(name, ns_t_txt, answer, sizeof answer, &status);
    if (len < 0) return status;
    ns_msg msg;
    if (ns_initparse(answer, len, &msg) < 0) return TERN_DNS_TRY_AGAIN;
    int n = ns_msg_count(msg, ns_s_an);
    for (int i = 0; i < n; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) continue;
        if (ns_rr_type(rr) != ns_t_txt) continue;
        const unsigned char *p = ns_rr_rdata(rr);
        const unsigned char *end = p + ns_rr_rdlen(rr);
        if (used > 0 && used + 3 < size - 1) { memcpy(out + used, " / ", 3); used += 3; }
        while (p < end) {
            int chunk = *p++;
            if (chunk > end - p) chunk = (int) (end - p);
            int room = size - 1 - used;
            int take = chunk < room ? chunk : room;
            memcpy(out + used, p, take);
            used += take;
            p += chunk;
        }
    }
    out[used] = 0;
    return used > 0 ? TERN_DNS_OK : TERN_DNS_NO_DATA;
}
