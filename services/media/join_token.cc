#include "services/media/join_token.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "services/common/key_file.h"
#include "services/media/token.pb.h"

namespace reception::media {

JoinTokenSigner::~JoinTokenSigner() { sodium_memzero(secret_.data(), secret_.size()); }

std::unique_ptr<JoinTokenSigner> JoinTokenSigner::Ephemeral() {
  if (sodium_init() < 0) return nullptr;
  std::unique_ptr<JoinTokenSigner> s(new JoinTokenSigner());
  s->public_.resize(crypto_sign_PUBLICKEYBYTES);
  s->secret_.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(s->public_.data()),
                      reinterpret_cast<unsigned char*>(s->secret_.data()));
  return s;
}

absl::StatusOr<std::unique_ptr<JoinTokenSigner>> JoinTokenSigner::Open(const std::string& path) {
  if (sodium_init() < 0) return absl::InternalError("libsodium could not initialise");
  auto pair = LoadOrCreateKeyPair(path, crypto_sign_PUBLICKEYBYTES, crypto_sign_SECRETKEYBYTES, [] {
    auto fresh = Ephemeral();
    return std::make_pair(fresh->public_, fresh->secret_);
  });
  if (!pair.ok()) return pair.status();
  std::unique_ptr<JoinTokenSigner> s(new JoinTokenSigner());
  s->public_ = std::move(pair->first);
  s->secret_ = std::move(pair->second);
  return s;
}

absl::StatusOr<std::string> JoinTokenSigner::Issue(const JoinClaims& claims) const {
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string*>{"room", &claims.room},
        {"role", &claims.role},
        {"unit", &claims.unit},
        {"subject", &claims.subject}}) {
    if (value->empty())
      return absl::InvalidArgumentError(absl::StrCat("join token ", field, " must be set"));
  }
  internal::JoinTokenClaims c;
  c.set_room(claims.room);
  c.set_role(claims.role);
  c.set_unit(claims.unit);
  c.set_subject(claims.subject);
  c.set_not_after_unix(absl::ToUnixSeconds(claims.not_after));
  std::string nonce(16, '\0');
  randombytes_buf(nonce.data(), nonce.size());
  c.set_nonce(nonce);
  const std::string payload = c.SerializeAsString();
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(payload.data()),
                       payload.size(), reinterpret_cast<const unsigned char*>(secret_.data()));
  return absl::StrCat(
      absl::WebSafeBase64Escape(payload), ".",
      absl::WebSafeBase64Escape(absl::string_view(reinterpret_cast<char*>(sig), sizeof sig)));
}

absl::StatusOr<JoinClaims> JoinTokenSigner::Verify(absl::string_view token, absl::string_view room,
                                                   absl::Time now) const {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  std::string payload, sig;
  if (token.size() > 4096 || parts.size() != 2 ||
      !absl::WebSafeBase64Unescape(parts[0], &payload) ||
      !absl::WebSafeBase64Unescape(parts[1], &sig) || sig.size() != crypto_sign_BYTES) {
    return absl::UnauthenticatedError("join_token is not a token issued by this node");
  }
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig.data()),
                                  reinterpret_cast<const unsigned char*>(payload.data()),
                                  payload.size(),
                                  reinterpret_cast<const unsigned char*>(public_.data())) != 0) {
    return absl::UnauthenticatedError(
        "join_token signature does not verify: it was altered or not issued here");
  }
  internal::JoinTokenClaims c;
  if (!c.ParseFromString(payload)) return absl::UnauthenticatedError("join_token does not parse");
  if (c.room() != room) {
    return absl::PermissionDeniedError(
        absl::StrCat("join_token is for ", c.room(), ", not ", room));
  }
  const absl::Time not_after = absl::FromUnixSeconds(c.not_after_unix());
  if (now > not_after) {
    return absl::PermissionDeniedError(
        absl::StrCat("join_token expired at ",
                     absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", not_after, absl::UTCTimeZone()),
                     "; ask for a new one"));
  }
  return JoinClaims{c.room(), c.role(), c.unit(), c.subject(), not_after};
}

std::string JoinTokenSigner::Derive(absl::string_view label) const {
  unsigned char out[32];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(label.data()),
                     label.size(), reinterpret_cast<const unsigned char*>(secret_.data()),
                     crypto_generichash_KEYBYTES);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

}  // namespace reception::media
