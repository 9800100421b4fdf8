import TMTCore
print("tmt-benchmarks")
