#ifndef CSQLITE_H
#define CSQLITE_H
#include <sqlite3.h>

/// sqlite3_bind_text with SQLITE_TRANSIENT (SQLite copies the text). Swift cannot use the SQLITE_TRANSIENT
/// macro, a function pointer made from -1.
int tern_sqlite_bind_text(sqlite3_stmt *statement, int index, const char *text, int length);
#endif
