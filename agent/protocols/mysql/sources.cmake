# MySQL/MariaDB client/server protocol parser (see docs/protocols/mysql.md).
list(APPEND WS_PROTOCOL_SOURCES mysql/packet.cc mysql/statement_split.cc mysql/parser.cc)
