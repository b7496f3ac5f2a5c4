// smgcore._smgcore: the extension module behind `import smgcore`.
#include <pybind11/pybind11.h>

#include "errors.h"
#include "module.h"
#include "smgcore/version.h"

PYBIND11_MODULE(_smgcore, m) {
  namespace python = smg::python;
  m.doc() =
      "smgcore's C++ routing core (private: import smgcore instead). Bindings over the C++ "
      "API in include/smgcore/.";
  m.attr("__version__") = SMGCORE_VERSION_STRING;

  python::RegisterErrors(m);
  python::RegisterClock(m);
  python::RegisterPolicyOptions(m);
  python::RegisterResilienceOptions(m);
  python::RegisterTenantOptions(m);
  python::RegisterWorker(m);
  python::RegisterDecision(m);
  python::RegisterRouter(m);
  python::RegisterRetry(m);
  python::RegisterTokenBucket(m);
  python::RegisterConcurrencyLimiter(m);
  python::RegisterTenantLimiter(m);
}
