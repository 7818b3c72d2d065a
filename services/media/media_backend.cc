#include "services/media/media_backend.h"

#include <curl/curl.h>

#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

namespace reception::media {
namespace {

using json = nlohmann::json;

class NoneBackend final : public MediaBackend {
 public:
  std::string name() const override { return "none"; }
  absl::Status OpenRoom(const MediaRoom&) override { return absl::OkStatus(); }
  absl::Status AllowToken(const MediaRoom&, const std::string&) override {
    return absl::OkStatus();
  }
  absl::Status Kick(const MediaRoom&, uint64_t) override { return absl::OkStatus(); }
  absl::Status CloseRoom(const MediaRoom&) override { return absl::OkStatus(); }
  absl::StatusOr<std::vector<uint64_t>> ListRooms() override { return std::vector<uint64_t>{}; }
  MediaAccess AccessFor(const MediaRoom& room, const std::string& token) const override {
    return {"none", "", room.number, "", token};
  }
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Janus videoroom error codes (janus_videoroom.c) that mean something to a
// caller.
absl::Status PluginError(int code, const std::string& text) {
  const std::string message = absl::StrCat("Janus videoroom error ", code, ": ", text);
  switch (code) {
    case 426:  // no such room
    case 428:  // no such feed / user
      return absl::NotFoundError(message);
    case 427:  // room exists
      return absl::AlreadyExistsError(message);
    case 433:  // unauthorized
      return absl::PermissionDeniedError(message);
    case 429:  // missing element
    case 430:  // invalid element
    case 431:  // invalid sdp type
      return absl::InvalidArgumentError(message);
    default:
      return absl::FailedPreconditionError(message);
  }
}

class JanusBackend final : public MediaBackend {
 public:
  explicit JanusBackend(std::string url) : url_(std::move(url)) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    keepalive_ = std::thread([this] { KeepAlive(); });
  }
  ~JanusBackend() override {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    keepalive_.join();
  }

  std::string name() const override { return "janus"; }

  absl::Status OpenRoom(const MediaRoom& room) override {
    absl::MutexLock lock(&mu_);
    open_[room.number] = room;
    return Create(room);
  }

  absl::Status AllowToken(const MediaRoom& room, const std::string& token) override {
    absl::MutexLock lock(&mu_);
    auto it = open_.find(room.number);
    if (it != open_.end()) it->second.allowed_tokens.push_back(token);
    json body = {{"request", "allowed"},
                 {"secret", room.secret},
                 {"action", "add"},
                 {"room", room.number},
                 {"allowed", json::array({token})}};
    return Plugin(body).status();
  }

  absl::Status Kick(const MediaRoom& room, uint64_t participant) override {
    absl::MutexLock lock(&mu_);
    json body = {
        {"request", "kick"}, {"secret", room.secret}, {"room", room.number}, {"id", participant}};
    return Plugin(body).status();
  }

  absl::Status CloseRoom(const MediaRoom& room) override {
    absl::MutexLock lock(&mu_);
    open_.erase(room.number);
    json body = {{"request", "destroy"}, {"secret", room.secret}, {"room", room.number}};
    auto r = Plugin(body);
    if (absl::IsNotFound(r.status())) return absl::OkStatus();  // already gone
    return r.status();
  }

  absl::StatusOr<std::vector<uint64_t>> ListRooms() override {
    absl::MutexLock lock(&mu_);
    auto r = Plugin({{"request", "list"}});
    if (!r.ok()) return r.status();
    std::vector<uint64_t> out;
    for (const auto& room : (*r)["list"]) out.push_back(room.value("room", uint64_t{0}));
    return out;
  }

  MediaAccess AccessFor(const MediaRoom& room, const std::string& token) const override {
    return {"janus", url_, room.number, room.pin, token};
  }

 private:
  // Rooms are not private (Janus leaves private rooms out of "list", which
  // the service uses to check and re-provision); joining needs the PIN and
  // one of the allowed tokens.
  absl::Status Create(const MediaRoom& room) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    json body = {{"request", "create"},
                 {"room", room.number},
                 {"description", room.description},
                 {"secret", room.secret},
                 {"pin", room.pin},
                 {"is_private", false},
                 {"allowed", room.allowed_tokens},
                 {"publishers", room.max_publishers},
                 {"permanent", false}};
    auto r = Plugin(body);
    if (absl::IsAlreadyExists(r.status())) return absl::OkStatus();
    return r.status();
  }

  // POST `request` to `path`; the parsed reply, or UNAVAILABLE.
  absl::StatusOr<json> Post(const std::string& path, json request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    request["transaction"] = absl::StrCat("t", ++transaction_);
    const std::string payload = request.dump();
    std::string reply;
    CURL* curl = curl_easy_init();
    if (curl == nullptr) return absl::InternalError("libcurl could not start");
    const std::string url = url_ + path;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    const CURLcode rc = curl_easy_perform(curl);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
      return absl::UnavailableError(
          absl::StrCat("the media server at ", url_, " is unreachable: ", curl_easy_strerror(rc)));
    }
    json parsed = json::parse(reply, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return absl::UnavailableError(
          absl::StrCat("the media server at ", url_, " did not answer in JSON"));
    }
    if (parsed.value("janus", "") == "error") {
      const int code = parsed["error"].value("code", 0);
      const std::string text = parsed["error"].value("reason", "");
      // 458: no such session, 459: no such handle (Janus restarted or the
      // session timed out).
      if (code == 458 || code == 459) return absl::AbortedError(text);
      return absl::FailedPreconditionError(absl::StrCat("Janus error ", code, ": ", text));
    }
    return parsed;
  }

  absl::Status EnsureHandle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (handle_ != 0) return absl::OkStatus();
    auto s = Post("", {{"janus", "create"}});
    if (!s.ok()) return s.status();
    session_ = (*s)["data"].value("id", uint64_t{0});
    auto h = Post(absl::StrCat("/", session_),
                  {{"janus", "attach"}, {"plugin", "janus.plugin.videoroom"}});
    if (!h.ok()) return h.status();
    handle_ = (*h)["data"].value("id", uint64_t{0});
    return absl::OkStatus();
  }

  // A videoroom request: its plugin data, or the plugin's error (Janus puts
  // plugin errors inside "success" replies).
  absl::StatusOr<json> Plugin(const json& body) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (auto s = EnsureHandle(); !s.ok()) return s;
      auto r =
          Post(absl::StrCat("/", session_, "/", handle_), {{"janus", "message"}, {"body", body}});
      if (absl::IsAborted(r.status()) && attempt == 0) {
        // Janus restarted (or dropped the session): start over and provision
        // the rooms that should be open.
        session_ = handle_ = 0;
        if (auto s = Reprovision(); !s.ok()) return s;
        continue;
      }
      if (!r.ok()) return r.status();
      const json& data = (*r)["plugindata"]["data"];
      if (data.contains("error_code"))
        return PluginError(data.value("error_code", 0), data.value("error", ""));
      return data;
    }
    return absl::UnavailableError("the media server keeps losing its session");
  }

  absl::Status Reprovision() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (auto s = EnsureHandle(); !s.ok()) return s;
    for (const auto& [number, room] : open_) {
      json body = {{"request", "create"},
                   {"room", room.number},
                   {"description", room.description},
                   {"secret", room.secret},
                   {"pin", room.pin},
                   {"is_private", false},
                   {"allowed", room.allowed_tokens},
                   {"publishers", room.max_publishers},
                   {"permanent", false}};
      auto r =
          Post(absl::StrCat("/", session_, "/", handle_), {{"janus", "message"}, {"body", body}});
      if (!r.ok()) return r.status();
    }
    return absl::OkStatus();
  }

  void KeepAlive() {
    absl::MutexLock lock(&mu_);
    while (!stop_) {
      mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Seconds(20));
      if (stop_) break;
      if (session_ == 0) continue;
      auto r = Post(absl::StrCat("/", session_), {{"janus", "keepalive"}});
      if (absl::IsAborted(r.status())) {
        session_ = handle_ = 0;
        (void)Reprovision();
      }
    }
  }

  const std::string url_;
  absl::Mutex mu_;
  uint64_t session_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t handle_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t transaction_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, MediaRoom> open_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread keepalive_;
};

}  // namespace

std::unique_ptr<MediaBackend> NewNoneBackend() { return std::make_unique<NoneBackend>(); }

std::unique_ptr<MediaBackend> NewJanusBackend(const std::string& url) {
  return std::make_unique<JanusBackend>(url);
}

}  // namespace reception::media
