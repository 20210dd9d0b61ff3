list(APPEND WS_PROTOCOL_SOURCES postgres/parser.cc postgres/sql_prepared.cc postgres/wire.cc)
