// The media plane behind online reception rooms. The control plane (rooms,
// participants, floor, consent) is ours; audio and video go through a media
// server. Two implementations: "none" (the embedded default: the control
// plane alone) and "janus" (Janus VideoRoom over its HTTP API).
#ifndef RECEPTION_SERVICES_MEDIA_MEDIA_BACKEND_H_
#define RECEPTION_SERVICES_MEDIA_MEDIA_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reception::media {

// A room as the media server knows it.
struct MediaRoom {
  uint64_t number = 0;                      // the media server's room id
  std::string description;                  // for people (the room's name)
  std::string secret;                       // needed to edit, kick or destroy it
  std::string pin;                          // needed to join it
  std::vector<std::string> allowed_tokens;  // only these may join
  int max_publishers = 12;
};

// What a client needs to connect to the media plane.
struct MediaAccess {
  std::string backend;  // "none" or "janus"
  std::string url;      // the media server's client API
  uint64_t room = 0;
  std::string pin;
  std::string token;  // the media token the participant presents
};

// Thread-safe.
class MediaBackend {
 public:
  virtual ~MediaBackend() = default;
  virtual std::string name() const = 0;
  // Creates the room (idempotent: an existing room of ours is fine).
  virtual absl::Status OpenRoom(const MediaRoom& room) = 0;
  // Lets one more token join.
  virtual absl::Status AllowToken(const MediaRoom& room, const std::string& token) = 0;
  // Removes a participant from the media (by the media server's id).
  virtual absl::Status Kick(const MediaRoom& room, uint64_t participant) = 0;
  // Destroys the room (idempotent).
  virtual absl::Status CloseRoom(const MediaRoom& room) = 0;
  // The rooms the media server has.
  virtual absl::StatusOr<std::vector<uint64_t>> ListRooms() = 0;
  virtual MediaAccess AccessFor(const MediaRoom& room, const std::string& token) const = 0;
};

// The control plane alone.
std::unique_ptr<MediaBackend> NewNoneBackend();

// Janus at `url` (e.g. "http://127.0.0.1:8088/janus"). Keeps one session
// alive (keepalives), and when Janus has restarted (the session is gone)
// opens a new one and provisions the open rooms again.
std::unique_ptr<MediaBackend> NewJanusBackend(const std::string& url);

}  // namespace reception::media

#endif  // RECEPTION_SERVICES_MEDIA_MEDIA_BACKEND_H_
