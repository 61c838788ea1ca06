"""The cost model: what each workload costs now, on every platform it could run on, and the
cheapest feasible one (`auditor.cost.model`); the workloads of a scan priced from inventory
and metrics (`auditor.cost.workloads`); and the what-if calculator behind `auditor estimate`
(`auditor.cost.scenario`)."""
