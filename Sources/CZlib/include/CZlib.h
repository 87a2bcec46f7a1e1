#ifndef CZLIB_H
#define CZLIB_H
#include <zlib.h>

/// deflateInit2 / inflateInit2 for raw deflate (no zlib header or trailer, RFC 4978 COMPRESS=DEFLATE);
/// Swift cannot call zlib's init macros. Return zlib's status (Z_OK).
int tern_deflate_raw_init(z_stream *stream);
int tern_inflate_raw_init(z_stream *stream);
#endif
