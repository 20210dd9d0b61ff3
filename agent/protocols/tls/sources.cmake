# TLS handshake observer: cleartext record layer only (version, resumption,
# HelloRetryRequest, alerts, timing), for any TLS library.
list(APPEND WS_PROTOCOL_SOURCES tls/wire.cc tls/hello.cc tls/record_stream.cc tls/handshake_observer.cc)
