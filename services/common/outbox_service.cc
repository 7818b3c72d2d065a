#include "services/common/outbox_service.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/grpc_status.h"
#include "services/common/logging.h"
#include "services/common/outbox.h"

namespace reception {
namespace {

admin::v1::OutboxItem ToProto(const std::string& outbox, const Outbox::Item& item) {
  admin::v1::OutboxItem out;
  out.set_name(absl::StrCat("outboxes/", outbox, "/items/", item.sequence));
  out.set_outbox(outbox);
  out.set_peer(item.peer);
  out.set_key(item.key);
  out.set_dead(item.dead);
  out.set_last_error(item.last_error);
  out.set_attempts(item.attempts);
  out.mutable_queue_time()->set_seconds(absl::ToUnixSeconds(item.queued));
  return out;
}

// "outboxes/{outbox}/items/{sequence}" -> the outbox and the item.
absl::StatusOr<std::pair<Outbox*, Outbox::Item>> Find(const std::string& name) {
  const std::vector<std::string> parts = absl::StrSplit(name, '/');
  int64_t sequence = 0;
  if (parts.size() != 4 || parts[0] != "outboxes" || parts[2] != "items" ||
      !absl::SimpleAtoi(parts[3], &sequence)) {
    return absl::InvalidArgumentError("name must be outboxes/{outbox}/items/{sequence}");
  }
  const auto all = Outbox::All();
  auto box = all.find(parts[1]);
  if (box == all.end()) {
    return absl::NotFoundError(absl::StrCat("this process has no outbox ", parts[1].substr(0, 40)));
  }
  for (auto& item : box->second->List()) {
    if (item.sequence == sequence) return std::make_pair(box->second, std::move(item));
  }
  return absl::NotFoundError(
      absl::StrCat(name.substr(0, 120), " is not queued (delivered or cancelled)"));
}

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

}  // namespace

// Listing and finding read whole outboxes: on the service's own thread,
// never on a gRPC reactor thread.
grpc::ServerUnaryReactor* OutboxGrpcService::ListOutboxItems(
    Ctx* ctx, const admin::v1::ListOutboxItemsRequest* req,
    admin::v1::ListOutboxItemsResponse* resp) {
  auto p = auth_->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  if (req->page_size() < 0 || req->page_size() > 1000) {
    return Finish(ctx, absl::InvalidArgumentError("page_size must be between 0 and 1000 (0: 100)"));
  }
  int64_t offset = 0;
  if (!req->page_token().empty() && (!absl::SimpleAtoi(req->page_token(), &offset) || offset < 0)) {
    return Finish(ctx,
                  absl::InvalidArgumentError("page_token is not a token ListOutboxItems returned"));
  }
  auto* reactor = ctx->DefaultReactor();
  pool_.Post([req, resp, reactor, offset] {
    const int page_size = req->page_size() == 0 ? 100 : req->page_size();
    std::vector<admin::v1::OutboxItem> all;
    for (const auto& [name, box] : Outbox::All()) {
      if (!req->outbox().empty() && name != req->outbox()) continue;
      for (const auto& item : box->List(req->peer(), req->dead_only()))
        all.push_back(ToProto(name, item));
    }
    for (int64_t i = offset; i < static_cast<int64_t>(all.size()) && resp->items_size() < page_size;
         ++i) {
      *resp->add_items() = all[i];
    }
    if (offset + page_size < static_cast<int64_t>(all.size())) {
      resp->set_next_page_token(absl::StrCat(offset + page_size));
    }
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* OutboxGrpcService::RetryOutboxItem(
    Ctx* ctx, const admin::v1::RetryOutboxItemRequest* req, admin::v1::OutboxItem* resp) {
  auto p = auth_->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  auto* reactor = ctx->DefaultReactor();
  pool_.Post([req, resp, reactor, subject = p->subject] {
    auto found = Find(req->name());
    if (!found.ok()) return reactor->Finish(ToGrpcStatus(found.status()));
    auto [box, item] = *std::move(found);
    Log()->info("event=outbox_retry outbox={} item={} by={}", box->name(), LogValue(item.key),
                LogValue(subject));
    item.dead = false;
    *resp = ToProto(box->name(), item);
    box->Retry(item.key, [reactor](absl::Status s) { reactor->Finish(ToGrpcStatus(s)); });
  });
  return reactor;
}

grpc::ServerUnaryReactor* OutboxGrpcService::CancelOutboxItem(
    Ctx* ctx, const admin::v1::CancelOutboxItemRequest* req, admin::v1::CancelOutboxItemResponse*) {
  auto p = auth_->Authenticate(*ctx);
  if (!p.ok()) return Finish(ctx, p.status());
  auto* reactor = ctx->DefaultReactor();
  pool_.Post([req, reactor, subject = p->subject] {
    auto found = Find(req->name());
    if (!found.ok()) return reactor->Finish(ToGrpcStatus(found.status()));
    auto& [box, item] = *found;
    Log()->info("event=outbox_cancel outbox={} item={} by={}", box->name(), LogValue(item.key),
                LogValue(subject));
    box->Cancel(item.key, [reactor](absl::Status s) { reactor->Finish(ToGrpcStatus(s)); });
  });
  return reactor;
}

}  // namespace reception
