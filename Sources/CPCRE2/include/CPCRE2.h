#ifndef CPCRE2_H
#define CPCRE2_H
#include <stddef.h>
#include <stdint.h>

/// A compiled PCRE2 (8-bit) pattern, for Postfix's pcre: tables (pcre_table(5)).
typedef struct tern_pcre tern_pcre;

/// Option bits, the pcre2_compile() options Postfix's dict_pcre maps its flags to.
#define TERN_PCRE_CASELESS 0x00000008u
#define TERN_PCRE_MULTILINE 0x00000400u
#define TERN_PCRE_DOTALL 0x00000020u
#define TERN_PCRE_EXTENDED 0x00000080u
#define TERN_PCRE_ANCHORED 0x80000000u
#define TERN_PCRE_DOLLAR_ENDONLY 0x00000010u
#define TERN_PCRE_UNGREEDY 0x00040000u

/// Compiles `pattern` (`length` bytes). On failure returns NULL with pcre2's message in `error` and the
/// byte offset of the problem in `*error_offset`.
tern_pcre *tern_pcre_compile(const char *pattern, size_t length, uint32_t options, char *error, size_t error_size,
                             size_t *error_offset);

/// Number of capturing groups.
int tern_pcre_capture_count(const tern_pcre *re);

/// Matches `subject` (`length` bytes). Returns 1 and fills `starts`/`ends` (group 0...`pairs`-1, -1 when a
/// group did not take part) on a match, 0 when there is none, a negative pcre2 error code otherwise
/// (match limit exceeded and the like).
int tern_pcre_match(const tern_pcre *re, const char *subject, size_t length, long *starts, long *ends, int pairs);

/// The text of a pcre2 error code.
void tern_pcre_error_text(int code, char *buffer, size_t size);

void tern_pcre_free(tern_pcre *re);
#endif
