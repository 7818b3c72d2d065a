// Join tokens for online reception rooms: short-lived, signed with the host
// node's Ed25519 key (libsodium), naming the room, the role, the unit (the
// bridge point) and the subject. Verification refuses expired, forged and
// wrong-room tokens with a message a person can act on. Pure: no gRPC.
#ifndef RECEPTION_SERVICES_MEDIA_JOIN_TOKEN_H_
#define RECEPTION_SERVICES_MEDIA_JOIN_TOKEN_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace reception::media {

struct JoinClaims {
  std::string room;     // "rooms/{id}"
  std::string role;     // presiding, officer, citizen, interpreter, observer, site
  std::string unit;     // the unit (bridge point) the participant attends from
  std::string subject;  // who
  absl::Time not_after;
};

// Thread-safe after Open.
class JoinTokenSigner {
 public:
  // Reads "public-hex secret-hex" (Ed25519) from `path`, creating it with
  // mode 0600 when missing.
  static absl::StatusOr<std::unique_ptr<JoinTokenSigner>> Open(const std::string& path);
  // A signer with a fresh key held only in memory (tests).
  static std::unique_ptr<JoinTokenSigner> Ephemeral();
  ~JoinTokenSigner();

  // "payload.signature", both base64url. INVALID_ARGUMENT for empty fields.
  absl::StatusOr<std::string> Issue(const JoinClaims& claims) const;

  // The claims of a token this signer issued for `room`, valid at `now`:
  // UNAUTHENTICATED when malformed or forged, PERMISSION_DENIED when expired
  // or for another room.
  absl::StatusOr<JoinClaims> Verify(absl::string_view token, absl::string_view room,
                                    absl::Time now) const;

  const std::string& public_key() const { return public_; }

  // 32 bytes derived from the node's secret key and `label` (keyed BLAKE2b):
  // per-room media secrets and PINs that need no storage.
  std::string Derive(absl::string_view label) const;

 private:
  JoinTokenSigner() = default;
  std::string public_, secret_;
};

}  // namespace reception::media

#endif  // RECEPTION_SERVICES_MEDIA_JOIN_TOKEN_H_
