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
