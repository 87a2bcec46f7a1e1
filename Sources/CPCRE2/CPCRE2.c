#define PCRE2_CODE_UNIT_WIDTH 8
#include "CPCRE2.h"
#include <pcre2.h>
#include <stdlib.h>

struct tern_pcre {
    pcre2_code *code;
};

tern_pcre *tern_pcre_compile(const char *pattern, size_t length, uint32_t options, char *error, size_t error_size,
                             size_t *error_offset) {
    int code = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code *compiled = pcre2_compile((PCRE2_SPTR)pattern, length, options, &code, &offset, NULL);
    if (compiled == NULL) {
        pcre2_get_error_message(code, (PCRE2_UCHAR *)error, error_size);
        *error_offset = offset;
        return NULL;
    }
    tern_pcre *re = malloc(sizeof(tern_pcre));
    if (re == NULL) {
        pcre2_code_free(compiled);
        pcre2_get_error_message(PCRE2_ERROR_NOMEMORY, (PCRE2_UCHAR *)error, error_size);
        *error_offset = 0;
        return NULL;
    }
    re->code = compiled;
    return re;
}

int tern_pcre_capture_count(const tern_pcre *re) {
    uint32_t count = 0;
    pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &count);
    return (int)count;
}

int tern_pcre_match(const tern_pcre *re, const char *subject, size_t length, long *starts, long *ends, int pairs) {
    pcre2_match_data *data = pcre2_match_data_create_from_pattern(re->code, NULL);
    if (data == NULL) return PCRE2_ERROR_NOMEMORY;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, length, 0, 0, data, NULL);
    if (rc == PCRE2_ERROR_NOMATCH) {
        pcre2_match_data_free(data);
        return 0;
    }
    if (rc < 0) {
        pcre2_match_data_free(data);
        return rc;
    }
    PCRE2_SIZE *vector = pcre2_get_ovector_pointer(data);
    uint32_t available = pcre2_get_ovector_count(data);
    for (int i = 0; i < pairs; i++) {
        if ((uint32_t)i < available && i < rc && vector[2 * i] != PCRE2_UNSET) {
            starts[i] = (long)vector[2 * i];
            ends[i] = (long)vector[2 * i + 1];
        } else {
            starts[i] = -1;
            ends[i] = -1;
        }
    }
    pcre2_match_data_free(data);
    return 1;
}

void tern_pcre_error_text(int code, char *buffer, size_t size) {
    pcre2_get_error_message(code, (PCRE2_UCHAR *)buffer, size);
}

void tern_pcre_free(tern_pcre *re) {
    if (re == NULL) return;
    pcre2_code_free(re->code);
    free(re);
}
