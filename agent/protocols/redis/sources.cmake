# Redis (RESP2/RESP3) parser: decoder, command normalizer, connection parser.
list(APPEND WS_PROTOCOL_SOURCES redis/resp_decoder.cc redis/normalize.cc redis/parser.cc)
