list(APPEND WS_PROTOCOL_SOURCES postgres/parser.cc postgres/wire.cc)
