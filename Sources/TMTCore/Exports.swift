// TMTCore is the one import agents need: it re-exports the infrastructure modules.
@_exported import TMTBase
@_exported import TMTMetrics
@_exported import TMTModels
@_exported import TMTPostgres
@_exported import TMTKafka
@_exported import TMTRedis
@_exported import TMTHTTP
