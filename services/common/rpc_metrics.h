// Per-method gRPC server metrics from one interceptor: requests handled by
// code, and latency histograms. Labels hold only service, method and code,
// never request content.
#ifndef RECEPTION_SERVICES_COMMON_RPC_METRICS_H_
#define RECEPTION_SERVICES_COMMON_RPC_METRICS_H_

#include <memory>

#include "grpcpp/support/server_interceptor.h"
#include "prometheus/registry.h"

namespace reception {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeRpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_RPC_METRICS_H_
