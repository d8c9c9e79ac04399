// Maps libcurl's result codes onto classify.h's Transport. For bot_api/ and its tests only.
#pragma once

#include <curl/curl.h>

#include "telegram/classify.h"

namespace tginvite::telegram::internal {

inline Transport TransportFromCurl(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return Transport::kResponse;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return Transport::kNotConnected;
    case CURLE_OPERATION_TIMEDOUT:
      return Transport::kTimedOut;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_SEND_FAIL_REWIND:  // curl wanted to resend on a fresh connection; we forbid it
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return Transport::kConnectionBroken;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return Transport::kMisconfigured;
    default:
      return Transport::kOtherError;
  }
}

}  // namespace tginvite::telegram::internal
