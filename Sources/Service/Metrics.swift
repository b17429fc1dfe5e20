import Foundation
import Prometheus

/// The service's Prometheus metrics (`/metrics`), in a registry of its own so that several
/// services (tests) in one process do not mix their counts.
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let buckets: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                       .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                       .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)]

    nonisolated(unsafe) static let requests = MetricNameDescriptor(namespace: "siamese", metricName: "http_requests", unitName: "total",
                                               helpText: "HTTP requests by route and status")
    nonisolated(unsafe) static let duration = MetricNameDescriptor(namespace: "siamese", metricName: "http_request_duration", unitName: "seconds",
                                               helpText: "HTTP request duration")

    /// Counts a finished request and its duration, by route pattern (never the raw path, which
    /// would let clients create unbounded series).
    func record(method: String, route: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: Self.requests, labels: [("method", method), ("route", route), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: Self.duration, labels: [("route", route)], buckets: buckets).record(duration)
    }

    /// The text exposition, with the batcher's and store's figures read at scrape time.
    func exposition(batcher: EmbedBatcher.Statistics, storeItems: Int) -> String {
        func gauge(_ name: String, _ unit: String, _ help: String, _ value: Int) {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "siamese", metricName: name, unitName: unit, helpText: help))
                .set(Double(value))
        }
        gauge("embed_batches", "count", "model forward passes run by the batcher", batcher.batches)
        gauge("embed_requests", "count", "requests served by the batcher", batcher.requests)
        gauge("embed_inputs", "count", "inputs embedded by the batcher", batcher.inputs)
        gauge("embed_largest_batch", "inputs", "largest batch so far", batcher.largestBatch)
        gauge("store_items", "count", "items in the embedding store", storeItems)
        return registry.emitToString()
    }
}
