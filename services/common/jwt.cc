#include "services/common/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "jwt/jwt.hpp"
#include "nlohmann/json.hpp"
#include "services/common/logging.h"

namespace reception {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxTokenBytes = 8192;
constexpr size_t kMaxJwksBytes = 1 << 20;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct CtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct BldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

bool Base64Url(const Json& field, std::string* out) {
  if (!field.is_string()) return false;
  const std::string s = field.get<std::string>();
  return !s.empty() && s.size() < 4096 && absl::WebSafeBase64Unescape(s, out) && !out->empty();
}

// A public key from OpenSSL parameters (RSA n/e, or an EC group and point),
// checked by OpenSSL.
Pkey FromParams(const char* type, OSSL_PARAM* params) {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
    return nullptr;
  }
  Pkey key(raw);
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) <= 0) return nullptr;
  return key;
}

std::string PublicPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return {};
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

absl::StatusOr<Jwk> KeyFromJson(const Json& k, int index) {
  const std::string where = absl::StrCat("keys[", index, "]");
  Jwk out;
  out.kty = k.value("kty", "");
  out.kid = k.contains("kid") && k["kid"].is_string() ? k["kid"].get<std::string>() : "";
  out.alg = k.contains("alg") && k["alg"].is_string() ? k["alg"].get<std::string>() : "";
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> bld(OSSL_PARAM_BLD_new());
  std::unique_ptr<BIGNUM, BnFree> n_bn, e_bn;
  std::string a, b, point;  // the builder keeps pointers to these until to_param
  const char* type = nullptr;
  if (out.kty == "RSA") {
    if (!Base64Url(k["n"], &a) || !Base64Url(k["e"], &b)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": an RSA key needs n and e (base64url)"));
    }
    n_bn.reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(a.data()),
                         static_cast<int>(a.size()), nullptr));
    e_bn.reset(BN_bin2bn(reinterpret_cast<const unsigned char*>(b.data()),
                         static_cast<int>(b.size()), nullptr));
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get());
    type = "RSA";
  } else {
    out.crv = k.value("crv", "");
    const size_t size = out.crv == "P-256" ? 32 : out.crv == "P-384" ? 48 : 0;
    if (size == 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": EC keys must be on P-256 or P-384"));
    }
    if (!Base64Url(k["x"], &a) || !Base64Url(k["y"], &b) || a.size() != size || b.size() != size) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": an EC key needs x and y of ", size, " bytes (base64url)"));
    }
    point = absl::StrCat(std::string(1, '\x04'), a, b);
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, out.crv.c_str(), 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                     point.size());
    type = "EC";
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  Pkey key = params ? FromParams(type, params.get()) : nullptr;
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": not a valid ", out.kty, " public key"));
  }
  if (out.kty == "RSA" && EVP_PKEY_get_bits(key.get()) < 2048) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": RSA keys must have at least 2048 bits"));
  }
  out.pem = PublicPem(key.get());
  if (out.pem.empty()) return absl::InternalError(absl::StrCat(where, ": cannot encode the key"));
  return out;
}

// The key types an algorithm needs.
bool Suits(const Jwk& key, absl::string_view alg) {
  if (!key.alg.empty() && key.alg != alg) return false;
  if (absl::StartsWith(alg, "RS")) return key.kty == "RSA";
  if (alg == "ES256") return key.kty == "EC" && key.crv == "P-256";
  if (alg == "ES384") return key.kty == "EC" && key.crv == "P-384";
  return false;
}

std::string FileStamp(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "";
  return absl::StrCat(st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ":", st.st_size, ":", st.st_ino);
}

absl::StatusOr<std::vector<Jwk>> LoadJwksFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the JWKS file ", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (buf.str().size() > kMaxJwksBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": larger than 1 MiB"));
  }
  auto keys = ParseJwks(buf.str());
  if (!keys.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", keys.status().message()));
  return keys;
}

bool ValidUnitCode(absl::string_view s) {
  return !s.empty() && s.size() <= 32 &&
         std::all_of(s.begin(), s.end(), [](char c) { return absl::ascii_isalnum(c) || c == '-'; });
}

bool ValidSubject(absl::string_view s) {
  return !s.empty() && s.size() <= 128 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

absl::Status Refused(TokenRefusal* r, std::string reason, std::string message) {
  if (r != nullptr) *r = {reason, message};
  return absl::UnauthenticatedError(std::move(message));
}

// The integer value of a NumericDate claim, if it is one.
std::optional<int64_t> NumericDate(const Json& payload, const char* name) {
  if (!payload.contains(name)) return std::nullopt;
  // Dates a node can compute with (before year 36812), so no arithmetic
  // below overflows; anything else is no date.
  constexpr double kLimit = 1e12;
  const Json& v = payload[name];
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    return u < kLimit ? std::optional<int64_t>(static_cast<int64_t>(u)) : std::nullopt;
  }
  if (v.is_number()) {
    const double d = v.get<double>();
    return d > -kLimit && d < kLimit ? std::optional<int64_t>(static_cast<int64_t>(d))
                                     : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<std::vector<Jwk>> ParseJwks(absl::string_view json) {
  Json doc = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return absl::InvalidArgumentError("not a JWKS document (an object with a \"keys\" array)");
  }
  std::vector<Jwk> out;
  for (size_t i = 0; i < doc["keys"].size(); ++i) {
    const Json& k = doc["keys"][i];
    if (!k.is_object())
      return absl::InvalidArgumentError(absl::StrCat("keys[", i, "] is not an object"));
    const std::string kty = k.value("kty", "");
    const std::string use =
        k.contains("use") && k["use"].is_string() ? k["use"].get<std::string>() : "sig";
    if ((kty != "RSA" && kty != "EC") || use != "sig") continue;  // not a signature key we verify
    auto key = KeyFromJson(k, static_cast<int>(i));
    if (!key.ok()) return key.status();
    out.push_back(*std::move(key));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(config::v1::JwtConfig c) {
  if (c.issuer().empty()) return absl::InvalidArgumentError("auth.jwt.issuer must be set");
  if (c.audience().empty()) return absl::InvalidArgumentError("auth.jwt.audience must be set");
  if (c.algorithms().empty()) {
    c.add_algorithms("RS256");
    c.add_algorithms("ES256");
  }
  for (const auto& alg : c.algorithms()) {
    if (alg != "RS256" && alg != "RS384" && alg != "RS512" && alg != "ES256" && alg != "ES384") {
      return absl::InvalidArgumentError(
          absl::StrCat("auth.jwt.algorithms: \"", alg.substr(0, 16),
                       "\" is not allowed (RS256, RS384, RS512, ES256, ES384; never none or HS*)"));
    }
  }
  if (c.leeway_seconds() == 0) c.set_leeway_seconds(60);
  if (c.leeway_seconds() < 0 || c.leeway_seconds() > 600) {
    return absl::InvalidArgumentError("auth.jwt.leeway_seconds must be 0-600");
  }
  if (c.subject_claim().empty()) c.set_subject_claim("sub");
  if (c.role_claim().empty()) c.set_role_claim("reception_role");
  if (c.unit_claim().empty()) c.set_unit_claim("reception_unit");
  if (c.refresh_seconds() == 0) c.set_refresh_seconds(60);
  if (c.refresh_seconds() < 1 || c.refresh_seconds() > 86400) {
    return absl::InvalidArgumentError("auth.jwt.refresh_seconds must be 1-86400");
  }
  if (c.max_lifetime_seconds() == 0) c.set_max_lifetime_seconds(86400);
  if (c.max_lifetime_seconds() < 60) {
    return absl::InvalidArgumentError("auth.jwt.max_lifetime_seconds must be at least 60");
  }
  auto keys = LoadJwksFile(c.jwks_file());
  if (!keys.ok()) return keys.status();
  if (keys->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(c.jwks_file(), ": no RSA or EC signature key"));
  }
  std::unique_ptr<JwtVerifier> v(new JwtVerifier(std::move(c)));
  absl::MutexLock lock(&v->mu_);
  v->keys_ = std::make_shared<const std::vector<Jwk>>(*std::move(keys));
  v->file_stamp_ = FileStamp(v->config_.jwks_file());
  v->next_check_ = absl::Now() + absl::Seconds(v->config_.refresh_seconds());
  return v;
}

int JwtVerifier::reload_attempts() const {
  absl::MutexLock lock(&mu_);
  return reload_attempts_;
}

size_t JwtVerifier::key_count() const {
  absl::MutexLock lock(&mu_);
  return keys_->size();
}

void JwtVerifier::MaybeReload() const {
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (now < next_check_) return;
    next_check_ = now + absl::Seconds(config_.refresh_seconds());
    if (FileStamp(config_.jwks_file()) == file_stamp_) return;
  }
  const std::string stamp = FileStamp(config_.jwks_file());
  auto keys = LoadJwksFile(config_.jwks_file());
  absl::MutexLock lock(&mu_);
  file_stamp_ = stamp;
  ++reload_attempts_;
  if (!keys.ok() || keys->empty()) {
    Log()->warn("event=jwks_reload_failed file={} error={} note=\"the previous keys stay in use\"",
                LogValue(config_.jwks_file()),
                LogValue(keys.ok() ? "no usable key" : std::string(keys.status().message())));
    return;
  }
  keys_ = std::make_shared<const std::vector<Jwk>>(*std::move(keys));
  verified_.clear();  // verified with keys that may be gone
  Log()->info("event=jwks_reloaded file={} keys={}", LogValue(config_.jwks_file()), keys_->size());
}

absl::StatusOr<Principal> JwtVerifier::Verify(absl::string_view token,
                                              TokenRefusal* refusal) const {
  if (token.empty() || token.size() > kMaxTokenBytes) {
    return Refused(refusal, "malformed_token", "the bearer token is empty or longer than 8 KiB");
  }
  MaybeReload();
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  const int64_t leeway = config_.leeway_seconds();
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = verified_.find(token);
    // Still within its validity: the same bytes verified before with the
    // same keys. Otherwise the full check says why not.
    if (it != verified_.end() && now <= it->second.exp + leeway && now >= it->second.nbf - leeway) {
      return it->second.principal;
    }
  }
  int64_t exp = 0, nbf = 0;
  auto principal = VerifyFully(token, refusal, &exp, &nbf);
  if (principal.ok()) {
    absl::MutexLock lock(&mu_);
    if (verified_.size() >= kMaxVerified) verified_.clear();
    verified_[std::string(token)] = Verified{*principal, exp, nbf};
  }
  return principal;
}

absl::StatusOr<Principal> JwtVerifier::VerifyFully(absl::string_view token, TokenRefusal* refusal,
                                                   int64_t* exp_out, int64_t* nbf_out) const {
  std::shared_ptr<const std::vector<Jwk>> keys;
  {
    absl::MutexLock lock(&mu_);
    keys = keys_;
  }
  const std::vector<std::string> allowed(config_.algorithms().begin(), config_.algorithms().end());
  try {
    // First the header alone, to pick the key; nothing in it is trusted.
    std::error_code ec;
    auto unverified = jwt::decode(jwt::string_view(token.data(), token.size()),
                                  jwt::params::algorithms(allowed), ec, jwt::params::verify(false));
    if (ec) return Refused(refusal, "malformed_token", "the bearer token is not a well-formed JWT");
    const std::string alg = jwt::alg_to_str(unverified.header().algo()).data();
    if (std::find(allowed.begin(), allowed.end(), alg) == allowed.end()) {
      return Refused(refusal, "algorithm_not_allowed",
                     absl::StrCat("the token's signature algorithm is not accepted here (allowed: ",
                                  absl::StrJoin(allowed, ", "), ")"));
    }
    const Json header = unverified.header().create_json_obj();
    const std::string kid =
        header.contains("kid") && header["kid"].is_string() ? header["kid"].get<std::string>() : "";
    const Jwk* key = nullptr;
    int candidates = 0;
    for (const auto& k : *keys) {
      if (!Suits(k, alg)) continue;
      if (!kid.empty() ? k.kid == kid : true) {
        key = &k;
        ++candidates;
      }
    }
    if (key == nullptr || (kid.empty() && candidates > 1)) {
      return Refused(refusal, "unknown_key",
                     kid.empty() ? "the token names no key id (kid) and the key set has no single "
                                   "key for its algorithm"
                                 : "the token's key id (kid) is not in this node's key set; the "
                                   "identity provider may have rotated its keys (the JWKS file)");
    }
    ec.clear();
    auto verified =
        jwt::decode(jwt::string_view(token.data(), token.size()), jwt::params::algorithms(allowed),
                    ec, jwt::params::secret(key->pem), jwt::params::verify(true),
                    jwt::params::leeway(static_cast<uint32_t>(config_.leeway_seconds())));
    if (ec) {
      if (ec == jwt::VerificationErrc::TokenExpired) {
        return Refused(refusal, "token_expired", "the bearer token has expired; get a new one");
      }
      if (ec == jwt::VerificationErrc::ImmatureSignature) {
        return Refused(refusal, "token_not_yet_valid", "the bearer token is not valid yet (nbf)");
      }
      if (ec == jwt::VerificationErrc::InvalidAlgorithm) {
        return Refused(refusal, "algorithm_not_allowed",
                       "the token's signature algorithm is not accepted here");
      }
      return Refused(
          refusal, "bad_signature",
          "the bearer token's signature does not verify with the identity provider's key");
    }
    const Json payload = verified.payload().create_json_obj();
    if (!payload.is_object())
      return Refused(refusal, "malformed_token", "the token's claims are not an object");
    // The claims a node depends on, checked here whatever the library did.
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    const int64_t leeway = config_.leeway_seconds();
    const auto exp = NumericDate(payload, "exp");
    const auto nbf = NumericDate(payload, "nbf");
    const auto iat = NumericDate(payload, "iat");
    if (!exp)
      return Refused(refusal, "claims_missing",
                     "the token must carry an expiry (exp) as a NumericDate");
    if (*exp + leeway < now)
      return Refused(refusal, "token_expired", "the bearer token has expired; get a new one");
    if (nbf && *nbf - leeway > now)
      return Refused(refusal, "token_not_yet_valid", "the bearer token is not valid yet (nbf)");
    if (*exp - (iat ? *iat : now) > config_.max_lifetime_seconds()) {
      return Refused(refusal, "token_lifetime_too_long",
                     absl::StrCat("the token lives longer than this node accepts (",
                                  config_.max_lifetime_seconds(), " s)"));
    }
    if (!payload.contains("iss") || !payload["iss"].is_string() ||
        payload["iss"].get<std::string>() != config_.issuer()) {
      return Refused(refusal, "wrong_issuer",
                     absl::StrCat("the token was not issued by ", config_.issuer()));
    }
    bool audience = false;
    if (payload.contains("aud")) {
      const Json& aud = payload["aud"];
      if (aud.is_string()) audience = aud.get<std::string>() == config_.audience();
      if (aud.is_array()) {
        for (const auto& a : aud)
          audience = audience || (a.is_string() && a.get<std::string>() == config_.audience());
      }
    }
    if (!audience) {
      return Refused(refusal, "wrong_audience",
                     absl::StrCat("the token is not meant for this federation (aud must be ",
                                  config_.audience(), ")"));
    }
    auto claim = [&](const std::string& name) -> std::string {
      return payload.contains(name) && payload[name].is_string() ? payload[name].get<std::string>()
                                                                 : "";
    };
    Principal p;
    p.subject = claim(config_.subject_claim());
    p.unit_code = claim(config_.unit_claim());
    const std::string role = claim(config_.role_claim());
    if (!ValidSubject(p.subject)) {
      return Refused(refusal, "claims_missing",
                     absl::StrCat("claim ", config_.subject_claim(),
                                  " must name the caller (1-128 printable ASCII characters)"));
    }
    if (!ValidUnitCode(p.unit_code)) {
      return Refused(refusal, "claims_missing",
                     absl::StrCat("claim ", config_.unit_claim(), " must be a unit code"));
    }
    auto r = ParseRole(role);
    if (!r || *r == Role::kNode) {
      return Refused(refusal, "claims_missing",
                     absl::StrCat("claim ", config_.role_claim(),
                                  " must be one of officer, inspector, head, viewer (a token never "
                                  "makes a node: nodes present certificates)"));
    }
    p.role = *r;
    *exp_out = *exp;
    *nbf_out = nbf ? *nbf : 0;
    return p;
  } catch (const std::exception&) {
    return Refused(refusal, "malformed_token", "the bearer token is not a well-formed JWT");
  }
}

absl::StatusOr<std::string> PublicJwkJson(const std::string& private_key_pem,
                                          const std::string& kid) {
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  Pkey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (key == nullptr) return absl::InvalidArgumentError("not a PEM private key");
  Json jwk = {{"kid", kid}, {"use", "sig"}};
  auto b64 = [](const std::string& bytes) {
    std::string out;
    absl::WebSafeBase64Escape(bytes, &out);
    return out;
  };
  auto bn = [&](const char* name) -> std::string {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key.get(), name, &raw) != 1) return "";
    std::unique_ptr<BIGNUM, BnFree> v(raw);
    std::string out(static_cast<size_t>(BN_num_bytes(raw)), '\0');
    BN_bn2bin(raw, reinterpret_cast<unsigned char*>(out.data()));
    return out;
  };
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    jwk["kty"] = "RSA";
    jwk["n"] = b64(bn(OSSL_PKEY_PARAM_RSA_N));
    jwk["e"] = b64(bn(OSSL_PKEY_PARAM_RSA_E));
  } else if (EVP_PKEY_is_a(key.get(), "EC")) {
    char group[64] = {0};
    size_t len = 0;
    EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                   &len);
    const std::string g(group, len);
    const size_t size = (g == "prime256v1" || g == "P-256")  ? 32
                        : (g == "secp384r1" || g == "P-384") ? 48
                                                             : 0;
    if (size == 0) return absl::InvalidArgumentError("EC keys must be on P-256 or P-384");
    std::string point(1 + 2 * size, '\0');
    size_t plen = 0;
    if (EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                        reinterpret_cast<unsigned char*>(point.data()),
                                        point.size(), &plen) != 1 ||
        plen != point.size() || point[0] != '\x04') {
      return absl::InternalError("cannot read the EC public point");
    }
    jwk["kty"] = "EC";
    jwk["crv"] = size == 32 ? "P-256" : "P-384";
    jwk["x"] = b64(point.substr(1, size));
    jwk["y"] = b64(point.substr(1 + size, size));
  } else {
    return absl::InvalidArgumentError("only RSA and EC keys are supported");
  }
  return jwk.dump();
}

absl::StatusOr<std::string> IssueToken(const std::string& private_key_pem, const std::string& kid,
                                       const std::string& alg, const std::string& claims_json) {
  Json claims = Json::parse(claims_json, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) {
    return absl::InvalidArgumentError("the claims must be a JSON object");
  }
  try {
    jwt::jwt_object obj{jwt::params::algorithm(alg), jwt::params::secret(private_key_pem)};
    if (!kid.empty()) obj.header().add_header("kid", kid);
    for (auto it = claims.begin(); it != claims.end(); ++it) {
      const std::string name = it.key();
      obj.payload().add_claim(name, it.value());
    }
    std::error_code ec;
    std::string token = obj.signature(ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot sign: ", ec.message()));
    return token;
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot sign: ", e.what()));
  }
}

}  // namespace reception
