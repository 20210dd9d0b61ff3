list(APPEND WS_PROTOCOL_SOURCES http1/head_parser.cc http1/body_framer.cc http1/route.cc http1/parser.cc)
