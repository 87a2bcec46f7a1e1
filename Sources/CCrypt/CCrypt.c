#define _GNU_SOURCE
#include "CCrypt.h"
#include <crypt.h>
#include <errno.h>
#include <shadow.h>
#include <stdlib.h>
#include <string.h>

int tern_crypt(const char *phrase, const char *setting, char *out, size_t outlen) {
    struct crypt_data *data = calloc(1, sizeof(struct crypt_data));
    if (data == NULL) return -1;
    const char *result = crypt_rn(phrase, setting, data, (int)sizeof(struct crypt_data));
    int status = -1;
    // libxcrypt signals failure by NULL here, or by a string starting with '*' from other entry points.
    if (result != NULL && result[0] != '*' && strlen(result) < outlen) {
        strcpy(out, result);
        status = 0;
    }
    explicit_bzero(data, sizeof(struct crypt_data));
    free(data);
    return status;
}

int tern_crypt_gensalt(const char *prefix, unsigned long count, const char *rbytes, int nrbytes, char *out,
                       int outlen) {
    return crypt_gensalt_rn(prefix, count, rbytes, nrbytes, out, outlen) == NULL ? -1 : 0;
}

int tern_getspnam(const char *name, char *hash, size_t hashlen) {
    struct spwd entry, *result = NULL;
    char buffer[4096];
    errno = 0;
    int rc = getspnam_r(name, &entry, buffer, sizeof(buffer), &result);
    if (rc != 0) {
        if (rc == ENOENT) return 0;
        errno = rc;
        return -1;
    }
    if (result == NULL) return errno == EACCES ? -1 : 0;
    if (result->sp_pwdp == NULL || strlen(result->sp_pwdp) >= hashlen) return -1;
    strcpy(hash, result->sp_pwdp);
    explicit_bzero(buffer, sizeof(buffer));
    return 1;
}
