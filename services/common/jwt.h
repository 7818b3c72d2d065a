// Bearer tokens for people and department systems: JWTs (RFC 7519) signed by
// the province's identity provider, verified against its published key set
// (a JWKS file, RFC 7517). Signatures, key handling and token parsing are
// cpp-jwt's and OpenSSL's; this file chooses the key, checks the claims a
// node depends on and maps them to a Principal.
#ifndef RECEPTION_SERVICES_COMMON_JWT_H_
#define RECEPTION_SERVICES_COMMON_JWT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "reception/config/v1/config.pb.h"
#include "services/common/principal.h"

namespace reception {

// One verification key of a JWKS, as a PEM public key.
struct Jwk {
  std::string kid;  // may be empty
  std::string kty;  // "RSA" or "EC"
  std::string crv;  // "P-256" / "P-384" for EC
  std::string alg;  // optional restriction from the JWKS
  std::string pem;  // SubjectPublicKeyInfo, PEM
};

// Parses a JWKS document. Keys of other types (oct, OKP) or uses ("enc")
// are skipped; INVALID_ARGUMENT when the document is not a JWKS or a usable
// key is malformed.
absl::StatusOr<std::vector<Jwk>> ParseJwks(absl::string_view json);

// Why a token was refused: `reason` is a fixed word for the metric, `message`
// tells a person what to fix and never repeats the token.
struct TokenRefusal {
  std::string reason;
  std::string message;
};

class JwtVerifier {
 public:
  // Validates the settings and loads the JWKS now (a node with a broken key
  // file does not start). `config` has its defaults applied here.
  static absl::StatusOr<std::unique_ptr<JwtVerifier>> Create(config::v1::JwtConfig config);

  // The principal a token names, or why not. Reads the key file again when
  // its refresh interval has passed and the file changed (a bad new file is
  // logged and the old keys kept). Thread-safe.
  absl::StatusOr<Principal> Verify(absl::string_view token, TokenRefusal* refusal) const;

  size_t key_count() const;
  // How many times a changed key file was read (whether or not it was good).
  int reload_attempts() const;

 private:
  explicit JwtVerifier(config::v1::JwtConfig config) : config_(std::move(config)) {}
  void MaybeReload() const;
  // The full check: signature, algorithm, claims. `exp`/`nbf` are set on
  // success (nbf 0 when absent).
  absl::StatusOr<Principal> VerifyFully(absl::string_view token, TokenRefusal* refusal,
                                        int64_t* exp, int64_t* nbf) const;

  // Tokens that verified, by their exact bytes, with their validity: a
  // client presents the same token on every call until it expires, and a
  // signature check costs about a millisecond of CPU. Emptied whenever the
  // key set changes; bounded (emptied when full).
  struct Verified {
    Principal principal;
    int64_t exp = 0;
    int64_t nbf = 0;
  };
  static constexpr size_t kMaxVerified = 8192;
  mutable absl::flat_hash_map<std::string, Verified> verified_ ABSL_GUARDED_BY(mu_);

  config::v1::JwtConfig config_;
  mutable absl::Mutex mu_;
  mutable std::shared_ptr<const std::vector<Jwk>> keys_ ABSL_GUARDED_BY(mu_);
  mutable absl::Time next_check_ ABSL_GUARDED_BY(mu_);
  mutable std::string file_stamp_ ABSL_GUARDED_BY(mu_);  // mtime and size last loaded
  mutable int reload_attempts_ ABSL_GUARDED_BY(mu_) = 0;
};

// Development and tests: the public JWK (as one JSON object) of a PEM private
// key, RSA or EC P-256/P-384, with `kid`.
absl::StatusOr<std::string> PublicJwkJson(const std::string& private_key_pem,
                                          const std::string& kid);

// Development and tests: a token signed with a PEM private key. `alg` must
// suit the key (RS256 for RSA, ES256 for P-256, ...); `claims_json` is the
// payload as a JSON object.
absl::StatusOr<std::string> IssueToken(const std::string& private_key_pem, const std::string& kid,
                                       const std::string& alg, const std::string& claims_json);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_JWT_H_
