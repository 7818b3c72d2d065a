// reception-case: the case service alone (one Kubernetes workload).
#include "services/case/case_service.h"
#include "services/common/node_runtime.h"

int main(int argc, char** argv) {
  return reception::RunNode(argc, argv, "reception-case", {&reception::CaseModule::Create});
}
