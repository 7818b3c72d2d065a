// The shared outbox on a real store in a temp dir, driven by hand (Pump) with
// a fake clock and a fake peer: ordering and the window, a peer that is
// down, a lost acknowledgement, refusals and the dead letters an operator
// retries or cancels, replacement under the same key, a restart, and that
// nothing leaves before it is durable.
#include "services/common/outbox.h"

#include <deque>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "services/common/test_support.h"

namespace reception {
namespace {

// A peer that records what it receives and answers as told; answers can be
// held back and released later (calls in flight).
class FakePeer {
 public:
  void Deliver(const Outbox::Item& item, absl::AnyInvocable<void(Outbox::Answer)> answer) {
    absl::MutexLock lock(&mu_);
    received_.push_back(item.peer + ":" + item.payload);
    if (hold_) {
      held_.push_back(std::move(answer));
      return;
    }
    auto verdict = verdict_;
    auto it = per_payload_.find(item.payload);
    if (it != per_payload_.end()) verdict = it->second;
    mu_.Unlock();
    answer(Outbox::Answer{verdict, verdict == Outbox::Verdict::kDelivered ? "" : "no", ""});
    mu_.Lock();
  }
  void Answer(Outbox::Verdict v) {
    absl::MutexLock lock(&mu_);
    verdict_ = v;
  }
  void AnswerFor(const std::string& payload, Outbox::Verdict v) {
    absl::MutexLock lock(&mu_);
    per_payload_[payload] = v;
  }
  void Hold(bool hold) {
    absl::MutexLock lock(&mu_);
    hold_ = hold;
  }
  // Answers the oldest held call.
  void Release(Outbox::Verdict v) {
    absl::AnyInvocable<void(Outbox::Answer)> answer;
    {
      absl::MutexLock lock(&mu_);
      ASSERT_FALSE(held_.empty());
      answer = std::move(held_.front());
      held_.pop_front();
    }
    answer(Outbox::Answer{v, v == Outbox::Verdict::kDelivered ? "" : "later", ""});
  }
  std::vector<std::string> received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }
  void Clear() {
    absl::MutexLock lock(&mu_);
    received_.clear();
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> received_;
  Outbox::Verdict verdict_ = Outbox::Verdict::kDelivered;
  std::map<std::string, Outbox::Verdict> per_payload_;
  bool hold_ = false;
  std::deque<absl::AnyInvocable<void(Outbox::Answer)>> held_;
};

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override { Close(); }
  void Open(std::function<void()> before_commit = nullptr, int window = 2) {
    Store::Options o;
    o.path = dir_.Join("store");
    o.column_families = {"outbox", "state"};
    o.sync = false;
    o.before_commit = std::move(before_commit);
    store_ = *Store::Open(o);
    Outbox::Options b;
    b.store = store_.get();
    b.clock = &clock_;
    b.window = window;
    b.name = "test";
    auto box = Outbox::Open(
        b,
        [this](const Outbox::Item& item, auto answer) { peer_.Deliver(item, std::move(answer)); },
        [this](const Outbox::Item& item, const Outbox::Answer& answer, WriteTxn& txn) {
          // The caller's own record of the outcome, in the same write.
          const std::string outcome =
              answer.verdict == Outbox::Verdict::kDelivered ? "delivered" : answer.detail;
          txn.Put(store_->Family("state"), item.key, outcome);
          absl::MutexLock lock(&mu_);
          settled_.push_back(item.key + "=" + outcome);
          return absl::OkStatus();
        });
    ASSERT_TRUE(box.ok()) << box.status();
    box_ = *std::move(box);
  }
  void Close() {
    box_.reset();
    store_.reset();
  }
  void Put(const std::string& peer, const std::string& key, const std::string& payload) {
    ASSERT_TRUE(store_
                    ->CommitAndWait([&](WriteTxn& txn) {
                      box_->Put(txn, peer, key, payload);
                      return absl::OkStatus();
                    })
                    .ok());
  }
  int PumpAndSettle() {
    const int sent = box_->Pump();
    box_->Drain();
    return sent;
  }
  std::string State(const std::string& key) {
    auto v = store_->Get(store_->Family("state"), key);
    return v.ok() && v->has_value() ? **v : "";
  }
  std::vector<std::string> settled() {
    absl::MutexLock lock(&mu_);
    return settled_;
  }

  testing::TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1790000000)};
  FakePeer peer_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Outbox> box_;
  absl::Mutex mu_;
  std::vector<std::string> settled_;
};

TEST_F(OutboxTest, DeliversOldestFirstPerPeerWithinTheWindow) {
  for (int i = 1; i <= 5; ++i) Put("48-1", "a" + std::to_string(i), "A" + std::to_string(i));
  Put("48-2", "b1", "B1");
  peer_.Hold(true);
  EXPECT_EQ(box_->Pump(), 3);  // two for 48-1 (the window), one for 48-2
  EXPECT_EQ(box_->Pump(), 0);  // nothing more until answers come
  EXPECT_EQ(peer_.received(), (std::vector<std::string>{"48-1:A1", "48-1:A2", "48-2:B1"}));
  peer_.Release(Outbox::Verdict::kDelivered);
  peer_.Release(Outbox::Verdict::kDelivered);
  peer_.Release(Outbox::Verdict::kDelivered);
  box_->Drain();
  peer_.Hold(false);
  while (PumpAndSettle() > 0) {
  }
  EXPECT_EQ(peer_.received().size(), 6u);
  EXPECT_EQ(settled(), (std::vector<std::string>{"a1=delivered", "a2=delivered", "b1=delivered",
                                                 "a3=delivered", "a4=delivered", "a5=delivered"}));
  EXPECT_TRUE(box_->List().empty());
  EXPECT_EQ(State("a5"), "delivered");
  EXPECT_EQ(box_->Peers()["48-1"].delivered, 5);
}

TEST_F(OutboxTest, AWindowOfOneKeepsThePeersOrderStrictly) {
  Close();
  Open(nullptr, /*window=*/1);
  for (int i = 1; i <= 3; ++i) Put("48", "r" + std::to_string(i), "R" + std::to_string(i));
  peer_.Hold(true);
  EXPECT_EQ(box_->Pump(), 1);
  EXPECT_EQ(box_->Pump(), 0);              // the next waits for the answer
  peer_.Release(Outbox::Verdict::kRetry);  // and a failure keeps the order too
  box_->Drain();
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(box_->Pump(), 1);
  peer_.Release(Outbox::Verdict::kDelivered);
  box_->Drain();
  EXPECT_EQ(box_->Pump(), 1);
  peer_.Release(Outbox::Verdict::kDelivered);
  box_->Drain();
  EXPECT_EQ(box_->Pump(), 1);
  peer_.Release(Outbox::Verdict::kDelivered);
  box_->Drain();
  EXPECT_EQ(peer_.received(), (std::vector<std::string>{"48:R1", "48:R1", "48:R2", "48:R3"}));
}

TEST_F(OutboxTest, APeerThatIsDownIsRetriedWithExponentialBackoff) {
  Put("48-1", "a1", "A1");
  peer_.Answer(Outbox::Verdict::kRetry);
  EXPECT_EQ(PumpAndSettle(), 1);
  EXPECT_EQ(PumpAndSettle(), 0);  // backing off: 200 ms
  auto state = box_->Peers()["48-1"];
  EXPECT_FALSE(state.reachable);
  EXPECT_EQ(state.last_error, "no");
  EXPECT_EQ(state.depth, 1);
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(PumpAndSettle(), 1);
  clock_.Advance(absl::Milliseconds(300));
  EXPECT_EQ(PumpAndSettle(), 0);  // now 400 ms
  clock_.Advance(absl::Milliseconds(100));
  EXPECT_EQ(PumpAndSettle(), 1);
  for (int i = 0; i < 20; ++i) {  // the delay stops growing at the maximum
    clock_.Advance(absl::Seconds(30));
    EXPECT_EQ(PumpAndSettle(), 1);
  }
  // The peer returns: delivered, and the backoff is forgotten.
  peer_.Answer(Outbox::Verdict::kDelivered);
  clock_.Advance(absl::Seconds(30));
  EXPECT_EQ(PumpAndSettle(), 1);
  EXPECT_TRUE(box_->Peers()["48-1"].reachable);
  EXPECT_EQ(settled(), (std::vector<std::string>{"a1=delivered"}));
  Put("48-1", "a2", "A2");
  EXPECT_EQ(PumpAndSettle(), 1);
}

TEST_F(OutboxTest, ALostAcknowledgementMeansTheItemIsOfferedAgain) {
  Put("48-1", "a1", "A1");
  peer_.Hold(true);
  EXPECT_EQ(box_->Pump(), 1);
  peer_.Release(Outbox::Verdict::kRetry);  // the peer took it; its answer was lost
  box_->Drain();
  peer_.Hold(false);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(PumpAndSettle(), 1);
  EXPECT_EQ(peer_.received(), (std::vector<std::string>{"48-1:A1", "48-1:A1"}));
  EXPECT_EQ(settled(), (std::vector<std::string>{"a1=delivered"}));  // settled once
}

TEST_F(OutboxTest, ARefusalIsParkedAndTheQueueGoesOnUntilAnOperatorActs) {
  Put("48-1", "a1", "A1");
  Put("48-1", "a2", "A2");
  Put("48-1", "a3", "A3");
  peer_.AnswerFor("A1", Outbox::Verdict::kRefused);
  peer_.AnswerFor("A3", Outbox::Verdict::kRefused);
  while (PumpAndSettle() > 0) {
  }
  EXPECT_EQ(State("a1"), "no");  // the caller recorded the refusal
  EXPECT_EQ(State("a2"), "delivered");
  auto dead = box_->List("48-1", /*dead_only=*/true);
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0].key, "a1");
  EXPECT_EQ(dead[0].last_error, "no");
  EXPECT_EQ(box_->Peers()["48-1"].dead, 2);
  EXPECT_EQ(box_->Peers()["48-1"].depth, 0);
  // Not sent again by itself.
  clock_.Advance(absl::Minutes(10));
  EXPECT_EQ(PumpAndSettle(), 0);
  auto wait = [&](auto call) {
    absl::Notification done;
    absl::Status status;
    call([&](absl::Status s) {
      status = s;
      done.Notify();
    });
    done.WaitForNotification();
    return status;
  };
  // Retried after the cause is fixed at the peer: delivered.
  peer_.AnswerFor("A1", Outbox::Verdict::kDelivered);
  EXPECT_TRUE(wait([&](auto cb) { box_->Retry("a1", std::move(cb)); }).ok());
  EXPECT_EQ(PumpAndSettle(), 1);
  EXPECT_EQ(State("a1"), "delivered");
  // Cancelled: gone, and the caller hears of it.
  EXPECT_TRUE(wait([&](auto cb) { box_->Cancel("a3", std::move(cb)); }).ok());
  EXPECT_EQ(State("a3"), "cancelled by an operator");
  EXPECT_TRUE(box_->List().empty());
  EXPECT_EQ(wait([&](auto cb) { box_->Cancel("a3", std::move(cb)); }).code(),
            absl::StatusCode::kNotFound);
  Put("48-1", "a4", "A4");
  EXPECT_EQ(wait([&](auto cb) { box_->Retry("a4", std::move(cb)); }).code(),
            absl::StatusCode::kFailedPrecondition);  // not a dead letter
}

TEST_F(OutboxTest, ANewerItemUnderTheSameKeyReplacesTheOldEvenInFlight) {
  Put("48-1", "session-1", "v1");
  peer_.Hold(true);
  EXPECT_EQ(box_->Pump(), 1);
  Put("48-1", "session-1", "v2");  // changed while v1 is on its way
  peer_.Release(Outbox::Verdict::kDelivered);
  box_->Drain();
  peer_.Hold(false);
  auto left = box_->List();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].payload, "v2");
  EXPECT_EQ(PumpAndSettle(), 1);
  EXPECT_TRUE(box_->List().empty());
  EXPECT_EQ(peer_.received(), (std::vector<std::string>{"48-1:v1", "48-1:v2"}));
  // Replaced before it was sent: the old one never leaves.
  peer_.Clear();
  Put("48-1", "session-2", "w1");
  Put("48-1", "session-2", "w2");
  EXPECT_EQ(PumpAndSettle(), 1);
  EXPECT_EQ(peer_.received(), (std::vector<std::string>{"48-1:w2"}));
}

TEST_F(OutboxTest, ItemsSurviveARestartInOrder) {
  Put("48-1", "a1", "A1");
  Put("48-1", "a2", "A2");
  Close();
  Open();
  Put("48-1", "a3", "A3");
  auto items = box_->List();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].key, "a1");
  EXPECT_EQ(items[2].key, "a3");
  EXPECT_LT(items[1].sequence, items[2].sequence);
  while (PumpAndSettle() > 0) {
  }
  EXPECT_EQ(peer_.received(), (std::vector<std::string>{"48-1:A1", "48-1:A2", "48-1:A3"}));
}

TEST_F(OutboxTest, NothingLeavesBeforeItIsDurable) {
  Close();
  absl::Notification entered, release;
  std::atomic<bool> block{false};
  Open([&] {
    if (!block.load()) return;
    entered.Notify();
    release.WaitForNotification();
  });
  block = true;
  absl::Notification committed;
  store_->Submit(
      [&](WriteTxn& txn) {
        box_->Put(txn, "48-1", "a1", "A1");
        return absl::OkStatus();
      },
      [&](absl::Status) { committed.Notify(); });
  entered.WaitForNotification();  // the group is being written, not yet durable
  EXPECT_EQ(box_->Pump(), 0);
  EXPECT_TRUE(peer_.received().empty());
  block = false;
  release.Notify();
  committed.WaitForNotification();
  EXPECT_EQ(PumpAndSettle(), 1);
}

TEST_F(OutboxTest, TheWorkerDeliversOnItsOwn) {
  box_->Start();
  Put("48-1", "a1", "A1");
  box_->Kick();
  EXPECT_TRUE(testing::WaitFor([&] { return State("a1") == "delivered"; }, absl::Seconds(10)));
  box_->Stop();
}

TEST_F(OutboxTest, GaugesNameTheOutboxAndThePeer) {
  Put("48-1", "a1", "A1");
  clock_.Advance(absl::Seconds(90));
  bool seen = false;
  for (const auto& family : box_->Collect()) {
    if (family.name != "reception_outbox_oldest_seconds") continue;
    ASSERT_EQ(family.metric.size(), 1u);
    EXPECT_EQ(family.metric[0].gauge.value, 90);
    EXPECT_EQ(family.metric[0].label[0].value, "test");
    EXPECT_EQ(family.metric[0].label[1].value, "48-1");
    seen = true;
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace reception
