#ifndef CTERNPAM_H
#define CTERNPAM_H
#include <stddef.h>

/// Result of one PAM authentication (pam_authenticate, then pam_acct_mgmt unless skipped).
enum tern_pam_result { TERN_PAM_OK = 0, TERN_PAM_FAILED = 1, TERN_PAM_USER_UNKNOWN = 2, TERN_PAM_EXPIRED = 3,
                       TERN_PAM_INTERNAL = 4 };

/// Authenticates `user` with `password` through the PAM service `service`, answering every
/// echo-off prompt with the password and echo-on prompts with the user name. `message` receives
/// "pam_authenticate() failed: <pam_strerror>" (or the failing call) on failure.
int tern_pam_authenticate(const char *service, const char *user, const char *password, const char *rhost,
                          int check_account, char *message, size_t messagelen);
#endif
