#include "CTernPAM.h"
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tern_pam_credentials {
    const char *user;
    const char *password;
};

static int tern_pam_conversation(int count, const struct pam_message **messages, struct pam_response **responses,
                                 void *context) {
    struct tern_pam_credentials *credentials = context;
    if (count <= 0 || count > PAM_MAX_NUM_MSG) return PAM_CONV_ERR;
    struct pam_response *replies = calloc((size_t)count, sizeof(struct pam_response));
    if (replies == NULL) return PAM_BUF_ERR;
    for (int i = 0; i < count; i++) {
        switch (messages[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            replies[i].resp = strdup(credentials->password);
            break;
        case PAM_PROMPT_ECHO_ON:
            replies[i].resp = strdup(credentials->user);
            break;
        default:
            replies[i].resp = NULL;
            break;
        }
    }
    *responses = replies;
    return PAM_SUCCESS;
}

static int tern_pam_finish(pam_handle_t *handle, int status, const char *call, char *message, size_t messagelen) {
    // Dovecot's passdb-pam.c adds the hint for PAM_AUTH_ERR; fail2ban's dovecot filter expects it.
    if (status == PAM_AUTH_ERR)
        snprintf(message, messagelen, "%s() failed: %s (password mismatch?)", call, pam_strerror(handle, status));
    else if (status != PAM_SUCCESS)
        snprintf(message, messagelen, "%s() failed: %s", call, pam_strerror(handle, status));
    pam_end(handle, status);
    switch (status) {
    case PAM_SUCCESS: return TERN_PAM_OK;
    case PAM_USER_UNKNOWN: return TERN_PAM_USER_UNKNOWN;
    case PAM_NEW_AUTHTOK_REQD:
    case PAM_ACCT_EXPIRED: return TERN_PAM_EXPIRED;
    case PAM_AUTH_ERR:
    case PAM_PERM_DENIED:
    case PAM_MAXTRIES: return TERN_PAM_FAILED;
    default: return TERN_PAM_INTERNAL;
    }
}

int tern_pam_authenticate(const char *service, const char *user, const char *password, const char *rhost,
                          int check_account, char *message, size_t messagelen) {
    struct tern_pam_credentials credentials = {user, password};
    struct pam_conv conversation = {tern_pam_conversation, &credentials};
    pam_handle_t *handle = NULL;
    message[0] = '\0';
    int status = pam_start(service, user, &conversation, &handle);
    if (status != PAM_SUCCESS) {
        snprintf(message, messagelen, "pam_start() failed: %s", pam_strerror(handle, status));
        return TERN_PAM_INTERNAL;
    }
    if (rhost != NULL && rhost[0] != '\0') pam_set_item(handle, PAM_RHOST, rhost);
    status = pam_authenticate(handle, 0);
    if (status != PAM_SUCCESS) return tern_pam_finish(handle, status, "pam_authenticate", message, messagelen);
    if (check_account) {
        status = pam_acct_mgmt(handle, 0);
        if (status != PAM_SUCCESS) return tern_pam_finish(handle, status, "pam_acct_mgmt", message, messagelen);
    }
    return tern_pam_finish(handle, PAM_SUCCESS, "", message, messagelen);
}
