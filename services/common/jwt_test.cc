#include "services/common/jwt.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/common/test_support.h"

namespace reception {
namespace {

using testing::TempDir;
using testing::WaitFor;
using testing::WriteFile;

// A fresh private key as PEM: "EC" (P-256) or "RSA" (2048 bits).
std::string NewKey(const char* type) {
  EVP_PKEY* key = std::string(type) == "RSA"
                      ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

std::string Jwks(const std::vector<std::string>& jwks) {
  std::string out = "{\"keys\": [";
  for (size_t i = 0; i < jwks.size(); ++i) absl::StrAppend(&out, i ? "," : "", jwks[i]);
  return out + "]}";
}

std::string Claims(const std::string& extra = "", int64_t exp_in = 600) {
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  return absl::StrCat(
      "{\"iss\":\"https://id.quangnam.gov.vn\",\"aud\":\"reception\",\"sub\":\"lan.nguyen\",",
      "\"reception_role\":\"officer\",\"reception_unit\":\"48-1\",\"iat\":", now,
      ",\"exp\":", now + exp_in, extra, "}");
}

class JwtTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ec_ = NewKey("EC");
    rsa_ = NewKey("RSA");
    WriteFile(dir_.Join("jwks.json"),
              Jwks({*PublicJwkJson(ec_, "ec-1"), *PublicJwkJson(rsa_, "rsa-1")}));
    config::v1::JwtConfig c;
    c.set_jwks_file(dir_.Join("jwks.json"));
    c.set_issuer("https://id.quangnam.gov.vn");
    c.set_audience("reception");
    c.set_refresh_seconds(1);
    auto v = JwtVerifier::Create(c);
    ASSERT_TRUE(v.ok()) << v.status();
    verifier_ = *std::move(v);
  }
  // The refusal reason, or "ok".
  std::string Check(const std::string& token, Principal* out = nullptr) {
    TokenRefusal r;
    auto p = verifier_->Verify(token, &r);
    if (p.ok()) {
      if (out) *out = *p;
      return "ok";
    }
    EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(r.message, p.status().message());
    EXPECT_EQ(p.status().message().find(token.substr(0, 20)), std::string::npos)
        << "echoes the token";
    return r.reason;
  }
  std::string Token(const std::string& key, const std::string& kid, const std::string& alg,
                    const std::string& claims) {
    auto t = IssueToken(key, kid, alg, claims);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : "";
  }

  TempDir dir_;
  std::string ec_, rsa_;
  std::unique_ptr<JwtVerifier> verifier_;
};

TEST_F(JwtTest, ValidTokensOfBothAlgorithmsNameThePrincipal) {
  Principal p;
  EXPECT_EQ(Check(Token(ec_, "ec-1", "ES256", Claims()), &p), "ok");
  EXPECT_EQ(p.subject, "lan.nguyen");
  EXPECT_EQ(p.role, Role::kReceptionOfficer);
  EXPECT_EQ(p.unit_code, "48-1");
  EXPECT_EQ(Check(Token(rsa_, "rsa-1", "RS256", Claims(",\"reception_role\":\"head\"")), &p), "ok");
  EXPECT_EQ(p.role, Role::kHead);
  // aud as an array containing ours.
  EXPECT_EQ(Check(Token(ec_, "ec-1", "ES256",
                        absl::StrCat(Claims().substr(0, Claims().size() - 1),
                                     ",\"aud\":[\"x\",\"reception\"]}"))),
            "ok");
}

TEST_F(JwtTest, RefusesForgedExpiredAndMisdirectedTokens) {
  const std::string other = NewKey("EC");
  EXPECT_EQ(Check(Token(other, "ec-1", "ES256", Claims())), "bad_signature");
  EXPECT_EQ(Check(Token(other, "ec-9", "ES256", Claims())), "unknown_key");
  EXPECT_EQ(Check(Token(ec_, "ec-1", "ES256", Claims("", -3600))), "token_expired");
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  EXPECT_EQ(Check(Token(ec_, "ec-1", "ES256", Claims(absl::StrCat(",\"nbf\":", now + 3600), 7200))),
            "token_not_yet_valid");
  EXPECT_EQ(Check(Token(ec_, "ec-1", "ES256", Claims("", 30 * 86400))), "token_lifetime_too_long");
  std::string wrong_aud = Claims();
  wrong_aud.replace(wrong_aud.find("\"reception\""), 11, "\"other\"");
  EXPECT_EQ(Check(Token(ec_, "ec-1", "ES256", wrong_aud)), "wrong_audience");
  std::string wrong_iss = Claims();
  wrong_iss.replace(wrong_iss.find("id.quangnam"), 11, "id.evil.exa");
  EXPECT_EQ(Check(Token(ec_, "ec-1", "ES256", wrong_iss)), "wrong_issuer");
  // A token may never make its bearer a node, and must name a role and unit.
  EXPECT_EQ(Check(Token(ec_, "ec-1", "ES256", Claims(",\"reception_role\":\"node\""))),
            "claims_missing");
  EXPECT_EQ(Check(Token(ec_, "ec-1", "ES256", Claims(",\"reception_unit\":\"48\\n1\""))),
            "claims_missing");
  const int64_t t = absl::ToUnixSeconds(absl::Now());
  EXPECT_EQ(
      Check(Token(ec_, "ec-1", "ES256",
                  absl::StrCat(
                      "{\"iss\":\"https://id.quangnam.gov.vn\",\"aud\":\"reception\",\"sub\":\"x\","
                      "\"reception_role\":\"officer\",\"reception_unit\":\"48\",\"iat\":",
                      t, "}"))),
      "claims_missing");  // no exp
  EXPECT_NE(
      Check(Token(ec_, "ec-1", "ES256",
                  absl::StrCat(
                      "{\"iss\":\"https://id.quangnam.gov.vn\",\"aud\":\"reception\",\"sub\":\"x\","
                      "\"reception_role\":\"officer\",\"reception_unit\":\"48\",\"exp\":1e300}"))),
      "ok");  // an expiry no clock reaches is refused (by the library or by us), never accepted
  EXPECT_EQ(Check("not.a.jwt"), "malformed_token");
  EXPECT_EQ(Check(std::string(9000, 'a')), "malformed_token");
}

TEST_F(JwtTest, RefusesAlgNoneAndHmacWithThePublicKey) {
  auto b64 = [](const std::string& s) {
    std::string out;
    absl::WebSafeBase64Escape(s, &out);
    return out;
  };
  const std::string none =
      absl::StrCat(b64("{\"alg\":\"none\",\"typ\":\"JWT\"}"), ".", b64(Claims()), ".");
  EXPECT_EQ(Check(none), "algorithm_not_allowed");
  // The classic confusion attack: HS256 keyed with the verifier's public key.
  const auto keys = ParseJwks(testing::ReadFile(dir_.Join("jwks.json")));
  ASSERT_TRUE(keys.ok());
  const std::string hs = Token((*keys)[0].pem, "ec-1", "HS256", Claims());
  EXPECT_EQ(Check(hs), "algorithm_not_allowed");
}

TEST_F(JwtTest, KeySetReloadsWhenTheFileChanges) {
  // A token verified (and remembered) with the old keys...
  const std::string old = Token(ec_, "ec-1", "ES256", Claims());
  EXPECT_EQ(Check(old), "ok");
  EXPECT_EQ(Check(old), "ok");
  const std::string next = NewKey("EC");
  const std::string token = Token(next, "ec-2", "ES256", Claims());
  EXPECT_EQ(Check(token), "unknown_key");
  WriteFile(dir_.Join("jwks.next"), Jwks({*PublicJwkJson(next, "ec-2")}));
  std::rename(dir_.Join("jwks.next").c_str(), dir_.Join("jwks.json").c_str());
  EXPECT_TRUE(WaitFor([&] { return Check(token) == "ok"; }, absl::Seconds(10)));
  EXPECT_EQ(Check(Token(ec_, "ec-1", "ES256", Claims())), "unknown_key");  // rotated out
  EXPECT_EQ(Check(old), "unknown_key");  // ... is not taken on trust once they are gone
  // A broken file keeps the keys in use.
  const int attempts = verifier_->reload_attempts();
  WriteFile(dir_.Join("jwks.json"), "{not json");
  EXPECT_TRUE(WaitFor(
      [&] {
        (void)Check(token);  // a verification is what looks at the file
        return verifier_->reload_attempts() > attempts;
      },
      absl::Seconds(10)));
  EXPECT_EQ(Check(token), "ok");
  EXPECT_EQ(verifier_->key_count(), 1u);
}

TEST(JwksTest, RefusesWeakAndMalformedKeys) {
  EXPECT_FALSE(ParseJwks("[]").ok());
  EXPECT_FALSE(ParseJwks("{\"keys\": 3}").ok());
  // A 1024-bit RSA key.
  EVP_PKEY* weak = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, weak, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(weak);
  auto weak_jwks = ParseJwks(Jwks({*PublicJwkJson(pem, "weak")}));
  EXPECT_FALSE(weak_jwks.ok());
  // A point not on the curve.
  std::string x(32, '\x01'), y(32, '\x02'), bx, by;
  absl::WebSafeBase64Escape(x, &bx);
  absl::WebSafeBase64Escape(y, &by);
  EXPECT_FALSE(ParseJwks(absl::StrCat("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"", bx,
                                      "\",\"y\":\"", by, "\"}]}"))
                   .ok());
  // Keys we do not verify with are skipped, not errors.
  auto skipped = ParseJwks("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}");
  ASSERT_TRUE(skipped.ok());
  EXPECT_TRUE(skipped->empty());
}

TEST(JwtConfigTest, RefusesDangerousAlgorithms) {
  testing::TempDir dir;
  config::v1::JwtConfig c;
  c.set_jwks_file(dir.Join("none.json"));
  c.set_issuer("i");
  c.set_audience("a");
  c.add_algorithms("HS256");
  auto v = JwtVerifier::Create(c);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("HS256"), std::string::npos);
}

}  // namespace
}  // namespace reception
