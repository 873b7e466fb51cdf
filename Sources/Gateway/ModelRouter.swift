import ChatAPI
import Grammar
import Synchronization

/// A routed completion: the guarded event stream, and what the guard did (filled in as the
/// stream runs; complete once it has ended).
public struct GatewayCompletion: Sendable {
    public let events: AsyncThrowingStream<ChatEvent, Error>
    public let report: GuardReport

    /// `events` with `report` (a loop over several routed completions is one completion too).
    public init(events: AsyncThrowingStream<ChatEvent, Error>, report: GuardReport) {
        self.events = events
        self.report = report
    }
}

/// Routes requests to backends by model id and guards every answer.
///
/// For each request: find the route (exact ids and aliases before wildcards), compile the
/// request's schemas (a 400 naming the field, whatever the backend), rewrite what the backend
/// would ignore (`UpstreamRequest`), then open the backend with retries and fallbacks until the
/// first event is in hand. Nothing has reached the client before that, so a failure there can
/// still go elsewhere; after it, a failure ends the stream with an error. Every tool call then
/// passes the guard. A hosted upstream's non-streaming answer that breaks the rules is asked
/// again up to `maxRepairs` times before the client gets a 502.
public final class ModelRouter: Sendable {
    public let routes: [Route]
    public let schemaValidators: SchemaValidators
    let argumentGrammars: ArgumentGrammars
    public let maxRepairs: Int
    public let metrics: GatewayMetrics
    private let catalogs: CatalogCache

    public init(routes: [Route], compileExecutor: CompileExecutor, maxRepairs: Int = 2,
                catalogRefresh: Duration = .seconds(300), metrics: GatewayMetrics = GatewayMetrics()) {
        self.routes = routes
        self.metrics = metrics
        self.schemaValidators = SchemaValidators(executor: compileExecutor)
        self.argumentGrammars = ArgumentGrammars(executor: compileExecutor)
        self.maxRepairs = maxRepairs
        self.catalogs = CatalogCache(refresh: catalogRefresh)
    }

    /// Starts `request`. Throws an `APIError` for an unknown model, an invalid or too costly
    /// schema, or a backend that failed before its first event (after retries and fallbacks).
    public func startCompletion(_ request: ChatCompletionRequest) async throws -> GatewayCompletion {
        let route = try self.route(for: request.model)
        let schemas = try await schemaValidators.compile(request)
        let plan = ToolCallPlan(request: request)
        let metrics = self.metrics, label = route.pattern.text
        let report = GuardReport { metrics.guardAction(route: label, $0) }
        if !request.tools.isEmpty || request.responseFormat != .text { report.add(.checked) }
        let deadline = route.timeout.map { ContinuousClock.now + $0 }
        let context = Attempt(plan: plan, schemas: schemas, answerFormat: request.responseFormat, deadline: deadline, report: report)
        // One deadline task per request, over every attempt (and repair round): the
        // non-streaming answer is collected under it, a stream's first event is awaited under it.
        do {
            if !request.stream && !route.pool.capabilities.validByConstruction {
                let events = try await withDeadline(deadline) { try await self.repairing(request, route: route, context) }
                return GatewayCompletion(events: events, report: report)
            }
            let opened = try await withDeadline(deadline) {
                try await self.open(request, route: route, context, recordRewrites: true)
            }
            return GatewayCompletion(events: guarded(opened, context), report: report)
        } catch let failure as UpstreamError {
            throw failure.apiError
        }
    }

    /// The metrics label of the route serving `model`: its pattern, or `unknown`.
    public func routeLabel(for model: String) -> String { (try? route(for: model))?.pattern.text ?? "unknown" }

    /// The route serving `model`, or a 404 in OpenAI's shape.
    public func route(for model: String) throws -> Route {
        if let exact = routes.first(where: { ($0.pattern.isExact && $0.pattern.text == model) || $0.aliases.contains(model) }) {
            return exact
        }
        if let wildcard = routes.first(where: { $0.pattern.matches(model) }) { return wildcard }
        let served = routes.map { "'\($0.pattern.text)'" }.joined(separator: ", ")
        throw APIError.notFound("The model '\(model)' does not exist. Models served here: \(served).",
                                param: "model", code: "model_not_found")
    }

    // MARK: - Opening a backend

    /// What one request carries through its attempts.
    struct Attempt: Sendable {
        let plan: ToolCallPlan
        let schemas: RequestSchemas
        let answerFormat: ResponseFormat
        let deadline: ContinuousClock.Instant?
        let report: GuardReport
    }

    /// A backend's stream with its first event in hand, and the pool lease to give back.
    struct Opened: Sendable {
        let first: ChatEvent?
        let rest: EventIterator
        let capabilities: BackendCapabilities
        let release: @Sendable (_ failed: Bool) -> Void
    }

    /// Opens `request` on `route`, then on its fallbacks: retrying failures worth retrying with
    /// backoff, within the deadline. Throws the last failure as an `APIError`.
    ///
    /// The caller runs this under `withDeadline`, which cancels it when the deadline passes; a
    /// failure that comes after the deadline counts against the upstream.
    private func open(_ request: ChatCompletionRequest, route: Route, _ context: Attempt,
                      recordRewrites: Bool) async throws -> Opened {
        var lastFailure: UpstreamError?
        for (position, (modelID, candidate)) in fallbackChain(request.model, route).enumerated() {
            let label = candidate.pattern.text
            if position > 0 { metrics.fallback(route: label) }
            var renamed = request
            if position > 0 { renamed.model = modelID }
            let rewrites = GuardReport()
            let attemptRequest = UpstreamRequest.adapt(renamed, to: candidate.pool.capabilities, report: rewrites)
            for attempt in 0...candidate.retry.maxRetries {
                if attempt > 0 {
                    let delay = candidate.retry.delay(beforeRetry: attempt, retryAfter: lastFailure?.retryAfter)
                    if let deadline = context.deadline, ContinuousClock.now + delay >= deadline { break }
                    try await Task.sleep(for: delay)
                    metrics.retry(route: label)
                }
                let index = candidate.pool.acquire()
                let backend = candidate.pool.backends[index]
                let upstream = candidate.pool.labels[index]
                do {
                    let rest = EventIterator(try await backend.startCompletion(attemptRequest))
                    let first = try await rest.next()
                    metrics.attempt(route: label, upstream: upstream, outcome: "ok")
                    if recordRewrites { for action in rewrites.actions { context.report.add(action) } }
                    return Opened(first: first, rest: rest, capabilities: candidate.pool.capabilities,
                                  release: { failed in candidate.pool.release(index, failed: failed) })
                } catch let failure as UpstreamError {
                    candidate.pool.release(index, failed: true)
                    metrics.attempt(route: label, upstream: upstream, outcome: String(failure.apiError.status))
                    lastFailure = failure
                    if !failure.retryable { throw failure.apiError }
                } catch {
                    let timedOut = context.deadline.map { ContinuousClock.now >= $0 } ?? false
                    candidate.pool.release(index, failed: timedOut)
                    metrics.attempt(route: label, upstream: upstream,
                                    outcome: timedOut ? "504" : (error as? APIError).map { String($0.status) } ?? "error")
                    throw error
                }
            }
        }
        throw lastFailure?.apiError ?? APIError.server("No upstream could be tried for '\(request.model)'.")
    }

    /// `route` under the requested id, then each fallback id's route, each once.
    private func fallbackChain(_ model: String, _ route: Route) -> [(String, Route)] {
        var chain = [(model, route)]
        var seen: Set<String> = [model]
        var pending = route.fallbacks
        while !pending.isEmpty {
            let id = pending.removeFirst()
            guard seen.insert(id).inserted, let next = try? self.route(for: id) else { continue }
            chain.append((id, next))
            pending += next.fallbacks
        }
        return chain
    }

    // MARK: - Guarding

    /// The opened stream with every event checked (and, from a hosted upstream, argument
    /// fragments passed only while they can still complete validly). Once the deadline passes,
    /// the stream ends with a 504 and the backend's work is cancelled.
    private func guarded(_ opened: Opened, _ context: Attempt) -> AsyncThrowingStream<ChatEvent, Error> {
        let grammars = argumentGrammars
        return AsyncThrowingStream { continuation in
            let task = Task {
                let checker = ToolCallGuard(plan: context.plan, schemas: context.schemas, answerFormat: context.answerFormat,
                                            validByConstruction: opened.capabilities.validByConstruction)
                var gate = ArgumentGate(checker: checker, report: context.report)
                var checkOnly = checker
                var failed = false
                do {
                    var next = opened.first
                    var finished = false
                    while let event = next {
                        guard !finished else { throw Self.contractBroken("an event after the finish", opened.capabilities) }
                        if case .finished = event { finished = true }
                        if opened.capabilities.validByConstruction {
                            try checkOnly.check(event)
                            continuation.yield(event)
                        } else {
                            var matcher: GrammarMatcher?
                            if case .toolCallStarted(_, _, let name) = event,
                               let function = context.plan.functions.first(where: { $0.name == name }) {
                                matcher = await grammars.matcher(for: function)
                            }
                            for out in try gate.pass(event, matcher: matcher) { continuation.yield(out) }
                        }
                        next = try await opened.rest.next()
                    }
                    guard finished else { throw Self.contractBroken("the stream ended without finishing", opened.capabilities) }
                    continuation.finish()
                } catch let failure as UpstreamError {
                    failed = true
                    continuation.finish(throwing: failure.apiError)
                } catch {
                    failed = context.deadline.map { ContinuousClock.now >= $0 } ?? false
                    continuation.finish(throwing: error)
                }
                opened.release(failed)
            }
            let watch = context.deadline.map { deadline in
                DeadlineWatchdog.shared.schedule(deadline) {
                    continuation.finish(throwing: deadlineExceeded().apiError)
                    task.cancel()
                }
            }
            continuation.onTermination = { _ in
                task.cancel()
                if let watch { DeadlineWatchdog.shared.cancel(watch) }
            }
        }
    }

    /// A hosted upstream's non-streaming answer, checked whole; one that breaks the rules is
    /// asked again with the problem named, up to `maxRepairs` times. Runs under the request's
    /// `withDeadline`.
    private func repairing(_ request: ChatCompletionRequest, route: Route, _ context: Attempt) async throws -> AsyncThrowingStream<ChatEvent, Error> {
        var current = request
        var violation: APIError?
        for round in 0...maxRepairs {
            let opened = try await open(current, route: route, context, recordRewrites: round == 0)
            var events: [ChatEvent] = []
            do {
                var next = opened.first
                while let event = next {
                    events.append(event)
                    next = try await opened.rest.next()
                }
                opened.release(false)
            } catch let failure as UpstreamError {
                opened.release(true)
                throw failure.apiError
            } catch {
                opened.release(false)
                throw error
            }
            var checker = ToolCallGuard(plan: context.plan, schemas: context.schemas, answerFormat: context.answerFormat,
                                        validByConstruction: false)
            do {
                for event in events { try checker.check(event) }
                guard events.last.map({ if case .finished = $0 { true } else { false } }) == true else {
                    throw Self.contractBroken("the answer ended without finishing", opened.capabilities)
                }
                if round > 0 { context.report.add(.repaired(round)) }
                return AsyncThrowingStream { continuation in
                    for event in events { continuation.yield(event) }
                    continuation.finish()
                }
            } catch let error as APIError where ToolCallGuard.repairableCodes.contains(error.code ?? "") {
                violation = error
                if round < maxRepairs { metrics.repair(route: route.pattern.text) }
                current.messages.append(.user(
                    "Your previous reply was rejected: \(error.message) Reply again, following the tool definitions, tool_choice and response format exactly."))
            }
        }
        throw APIError(status: 502, message: "\(violation?.message ?? "") Asked again \(maxRepairs) times without a valid answer.",
                       type: "upstream_error", code: violation?.code ?? ToolCallGuard.upstreamViolationCode)
    }

    private static func contractBroken(_ what: String, _ capabilities: BackendCapabilities) -> APIError {
        capabilities.validByConstruction
            ? APIError.server("The backend broke its contract: \(what).")
            : APIError.badUpstream("The upstream broke the stream format: \(what).")
    }

    /// The `GET /v1/models/{id}` entry: as listed, or, for an id a wildcard route serves but
    /// its upstream's list does not show, an entry for that route.
    public func modelEntry(_ id: String) async -> ModelList.Entry? {
        if let listed = await modelList().models.first(where: { $0.id == id }) { return listed }
        guard let route = try? route(for: id) else { return nil }
        return ModelList.Entry(id: id, created: 0, ownedBy: route.ownedBy, capabilities: route.pool.capabilities.listing)
    }

    // MARK: - Health

    /// Probes the backends of every pool (a route with more than one backend) every `interval`
    /// until cancelled, ejecting those that fail and admitting those that recover.
    public func runHealthChecks(every interval: Duration) async {
        let pools = routes.map(\.pool).filter { $0.backends.count > 1 }
        guard !pools.isEmpty else { return }
        while !Task.isCancelled {
            await withTaskGroup(of: Void.self) { group in
                for pool in pools { group.addTask { await pool.checkHealth() } }
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Shuts every route's backends down (see `ChatBackend.shutdown()`), before the process exits.
    public func shutdown() async {
        await withTaskGroup(of: Void.self) { group in
            for backend in routes.flatMap(\.pool.backends) { group.addTask { await backend.shutdown() } }
        }
    }

    // MARK: - Models list

    /// The `GET /v1/models` listing: every exact route and alias, and for each wildcard route
    /// the upstream's own models that match it (read from its catalog, refreshed periodically).
    public func modelList() async -> ModelList {
        var entries: [ModelList.Entry] = []
        var seen = Set<String>()
        for (i, route) in routes.enumerated() {
            var ids = route.pattern.isExact ? [route.pattern.text] : []
            if !route.pattern.isExact, let catalog = route.catalog {
                ids += await catalogs.ids(route: i, catalog: catalog).filter(route.pattern.matches)
            }
            ids += route.aliases
            for id in ids where seen.insert(id).inserted {
                entries.append(ModelList.Entry(id: id, created: 0, ownedBy: route.ownedBy,
                                               capabilities: route.pool.capabilities.listing))
            }
        }
        return ModelList(models: entries)
    }
}

extension BackendCapabilities {
    /// The capabilities as `/v1/models` lists them. With the guard in front, every route takes
    /// tools, parallel calls, `strict` and streaming; `enforced_by` says who keeps the rules.
    var listing: JSONObject {
        var listing: JSONObject = ["tools": true, "tool_choice": true, "parallel_tool_calls": true, "strict": true,
                                   "streaming": true, "enforced_by": validByConstruction ? "grammar" : "guard"]
        if let toolCallFormat { listing["tool_call_format"] = .string(toolCallFormat) }
        return listing
    }
}

/// Upstream model ids for wildcard routes, fetched at most once per `refresh` per route.
final class CatalogCache: Sendable {
    private let refresh: Duration
    private let entries = Mutex<[Int: (fetched: ContinuousClock.Instant, ids: [String])]>([:])

    init(refresh: Duration) { self.refresh = refresh }

    func ids(route: Int, catalog: any ModelCatalog) async -> [String] {
        let now = ContinuousClock.now
        if let cached = entries.withLock({ $0[route] }), now - cached.fetched < refresh { return cached.ids }
        // A failed fetch keeps the last list (or none) and is tried again next time.
        guard let ids = try? await catalog.modelIDs() else { return entries.withLock { $0[route]?.ids ?? [] } }
        entries.withLock { $0[route] = (now, ids) }
        return ids
    }
}
