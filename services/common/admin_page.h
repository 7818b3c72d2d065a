// Pages on a node's admin HTTP port beside /metrics (the oversight page).
// Transport-free: a page is a function of the request's query and who is
// asking; the host authenticates nothing itself.
#ifndef RECEPTION_SERVICES_COMMON_ADMIN_PAGE_H_
#define RECEPTION_SERVICES_COMMON_ADMIN_PAGE_H_

#include <functional>
#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace reception {

struct AdminRequest {
  // Decoded query parameters (the last value of a repeated one).
  std::map<std::string, std::string> query;
  // The bearer token, from "Authorization: Bearer ..." or, for a browser
  // that cannot set the header, the access_token query parameter (RFC 6750
  // section 2.3); empty if none.
  std::string bearer_token;
  // The peer is this machine (127.0.0.0/8, ::1).
  bool loopback = false;
};

struct AdminReply {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
};

using AdminPage = std::function<AdminReply(const AdminRequest&)>;

// Text made safe inside HTML element content and quoted attribute values.
std::string HtmlEscape(absl::string_view text);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_ADMIN_PAGE_H_
