/* Drives server-side prepared statements (COM_STMT_PREPARE / EXECUTE /
 * RESET / CLOSE) through libmariadb, to record MySQL parser test captures.
 * Usage: mysql_stmt HOST PORT USER PASSWORD DB. Build once by hand:
 *   cc -o /tmp/mysql_stmt mysql_stmt.c $(mariadb_config --cflags --libs) */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(MYSQL* db, MYSQL_STMT* st) {
  fprintf(stderr, "error: %s\n", st ? mysql_stmt_error(st) : mysql_error(db));
  exit(1);
}

int main(int argc, char** argv) {
  if (argc != 6) return 2;
  MYSQL* db = mysql_init(NULL);
  unsigned int ssl = 0;
  mysql_optionsv(db, MYSQL_OPT_SSL_ENFORCE, &ssl);
  if (!mysql_real_connect(db, argv[1], argv[3], argv[4], argv[5], (unsigned)atoi(argv[2]), NULL, 0))
    die(db, NULL);

  /* SELECT with one integer parameter: binary result set. */
  MYSQL_STMT* sel = mysql_stmt_init(db);
  const char* q = "SELECT id, name, price FROM items WHERE id >= ? ORDER BY id";
  if (mysql_stmt_prepare(sel, q, strlen(q))) die(db, sel);
  int min_id = 2;
  MYSQL_BIND param;
  memset(&param, 0, sizeof(param));
  param.buffer_type = MYSQL_TYPE_LONG;
  param.buffer = &min_id;
  if (mysql_stmt_bind_param(sel, &param)) die(db, sel);
  if (mysql_stmt_execute(sel)) die(db, sel);
  if (mysql_stmt_store_result(sel)) die(db, sel);
  printf("select rows: %llu\n", (unsigned long long)mysql_stmt_num_rows(sel));
  mysql_stmt_free_result(sel);
  min_id = 1;
  if (mysql_stmt_execute(sel)) die(db, sel);
  if (mysql_stmt_store_result(sel)) die(db, sel);
  printf("select rows: %llu\n", (unsigned long long)mysql_stmt_num_rows(sel));
  mysql_stmt_free_result(sel);
  if (mysql_stmt_reset(sel)) die(db, sel);

  /* UPDATE: OK packet with affected rows. */
  MYSQL_STMT* upd = mysql_stmt_init(db);
  const char* u = "UPDATE items SET price = price + 1 WHERE id <= ?";
  if (mysql_stmt_prepare(upd, u, strlen(u))) die(db, upd);
  int max_id = 2;
  param.buffer = &max_id;
  if (mysql_stmt_bind_param(upd, &param)) die(db, upd);
  if (mysql_stmt_execute(upd)) die(db, upd);
  printf("updated: %llu\n", (unsigned long long)mysql_stmt_affected_rows(upd));

  /* Prepare error: unknown table. */
  MYSQL_STMT* bad = mysql_stmt_init(db);
  const char* b = "SELECT * FROM no_such_table WHERE id = ?";
  if (mysql_stmt_prepare(bad, b, strlen(b)) == 0) return 1;
  printf("prepare error: %u\n", mysql_stmt_errno(bad));

  mysql_stmt_close(bad);
  mysql_stmt_close(upd);
  mysql_stmt_close(sel);
  if (mysql_ping(db)) die(db, NULL);
  mysql_close(db);
  return 0;
}
