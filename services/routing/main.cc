// reception-routing: the routing service alone. It reaches the case service
// at case_service_address (node config).
#include "services/common/node_runtime.h"
#include "services/routing/routing_service.h"

int main(int argc, char** argv) {
  return reception::RunNode(argc, argv, "reception-routing", {&reception::RoutingModule::Create});
}
