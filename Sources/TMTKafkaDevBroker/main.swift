print("tmt-kafka-dev-broker: not built yet")
