{{/*
The alert rules of one service, as PrometheusRule groups. Every expression is scoped to the
service (the `service` label every metric carries), so each chart ships the rules of its service.
Groups follow what the service runs: HTTP and GraphQL everywhere; the database, the outbox and
consumers, jobs and retention in the subgraphs; /graphql/ws everywhere but auth; the signing key in
auth; the search engine's change queue in content; the supergraph file in the gateway. Each alert's
runbook is docs/runbooks/<alert-in-kebab-case>.md, linked under
global.metrics.prometheusRule.runbookBaseUrl (tools/helm/src/alerts.spec.ts checks the file exists
and that promtool unit tests cover the alert).
*/}}
{{- define "multipult.alertRules" -}}
{{- $service := include "multipult.serviceName" . -}}
{{- $s := printf "service=%q" $service -}}
{{- $runbooks := .Values.global.metrics.prometheusRule.runbookBaseUrl | trimSuffix "/" -}}
{{- $keyMaxAgeDays := .Values.global.metrics.prometheusRule.signingKeyMaxAgeDays -}}
- name: {{ $service }}.requests
  rules:
    - alert: HighRequestErrorRate
      expr: |
        sum by (service) (rate(http_request_duration_seconds_count{ {{- $s }},status_code=~"5.."}[5m]))
          / sum by (service) (rate(http_request_duration_seconds_count{ {{- $s }}}[5m])) > 0.05
      for: 5m
      labels:
        severity: critical
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: more than 5% of HTTP requests fail with 5xx'
        description: '{{ $service }} answered {{ `{{ $value | humanizePercentage }}` }} of its HTTP requests with a 5xx status over the last 5 minutes.'
        runbook_url: {{ printf "%s/high-request-error-rate.md" $runbooks }}
    - alert: HighRequestLatency
      # Agent run event streams stay open for the whole run: not a latency.
      expr: |
        histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket{ {{- $s }},route!="/agents/runs/:id/events"}[5m]))) > 2
      for: 10m
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: p99 HTTP latency above 2 s'
        description: 'The 99th percentile of {{ $service }} HTTP request latency is {{ `{{ $value | humanizeDuration }}` }} over the last 5 minutes.'
        runbook_url: {{ printf "%s/high-request-latency.md" $runbooks }}
    - alert: HighGraphQLLatency
      expr: |
        histogram_quantile(0.99, sum by (service, le) (rate(graphql_operation_duration_seconds_bucket{ {{- $s }},operation_type!="subscription"}[5m]))) > 2
      for: 10m
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: p99 GraphQL operation latency above 2 s'
        description: 'The 99th percentile of {{ $service }} GraphQL query and mutation latency is {{ `{{ $value | humanizeDuration }}` }} over the last 5 minutes.'
        runbook_url: {{ printf "%s/high-graphql-latency.md" $runbooks }}
    - alert: GraphQLInternalErrors
      expr: |
        sum by (service) (rate(graphql_errors_total{ {{- $s }},code="INTERNAL"}[5m]))
          / sum by (service) (rate(graphql_operation_duration_seconds_count{ {{- $s }}}[5m])) > 0.02
      for: 10m
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: more than 2% of GraphQL operations end in INTERNAL errors'
        description: '{{ $service }} returned INTERNAL errors for {{ `{{ $value | humanizePercentage }}` }} of its GraphQL operations (HTTP 200 with errors, so the 5xx alert does not see them).'
        runbook_url: {{ printf "%s/graphql-internal-errors.md" $runbooks }}
{{- if ne $service "auth" }}
{{- /* auth serves no /graphql/ws. */}}
- name: {{ $service }}.realtime
  rules:
    - alert: RealtimeConnectionsNearLimit
      # Per replica: each refuses upgrades with 503 at its own REALTIME_MAX_CONNECTIONS.
      expr: |
        max by (service) (realtime_ws_connections{ {{- $s }}} / realtime_ws_connections_limit{ {{- $s }}}) > 0.8
      for: 10m
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: a replica holds more than 80% of its /graphql/ws connection limit'
        description: 'The fullest {{ $service }} replica is at {{ `{{ $value | humanizePercentage }}` }} of REALTIME_MAX_CONNECTIONS; at 100% new subscriptions are refused with 503.'
        runbook_url: {{ printf "%s/realtime-connections-near-limit.md" $runbooks }}
    - alert: RealtimeConnectionsCollapsed
      expr: |
        sum by (service) (realtime_ws_connections{ {{- $s }}})
          < 0.5 * sum by (service) (realtime_ws_connections{ {{- $s }}} offset 15m)
        and sum by (service) (realtime_ws_connections{ {{- $s }}} offset 15m) > 100
      for: 5m
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: open /graphql/ws connections fell by more than half within 15 minutes'
        description: '{{ $service }} holds {{ `{{ $value }}` }} WebSocket connections, less than half of 15 minutes ago: clients are failing to reconnect.'
        runbook_url: {{ printf "%s/realtime-connections-collapsed.md" $runbooks }}
{{- end }}
{{- if include "multipult.hasDatabase" . }}
- name: {{ $service }}.database
  rules:
    - alert: DatabasePoolExhausted
      expr: |
        max by (service, pool) (db_pool_connections{ {{- $s }},state="waiting"}) > 0
      for: 5m
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: requests wait for a database connection'
        description: '{{ `{{ $value }}` }} queries of pool {{ `{{ $labels.pool }}` }} have been waiting for a free connection for 5 minutes (DATABASE_POOL_MAX reached).'
        runbook_url: {{ printf "%s/database-pool-exhausted.md" $runbooks }}
- name: {{ $service }}.jobs
  rules:
    - alert: JobFailureRateHigh
      expr: |
        sum by (service, queue) (rate(jobs_failed_total{ {{- $s }}}[15m]))
          / (
            sum by (service, queue) (rate(jobs_failed_total{ {{- $s }}}[15m]))
            + (sum by (service, queue) (rate(jobs_completed_total{ {{- $s }}}[15m])) or 0 * sum by (service, queue) (rate(jobs_failed_total{ {{- $s }}}[15m])))
          ) > 0.25
      for: 15m
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: more than 25% of job attempts on {{ `{{ $labels.queue }}` }} fail'
        description: '{{ `{{ $value | humanizePercentage }}` }} of the attempts of queue {{ `{{ $labels.queue }}` }} failed over the last 15 minutes; failed attempts are retried, then dead-lettered.'
        runbook_url: {{ printf "%s/job-failure-rate-high.md" $runbooks }}
    - alert: JobsDeadLettered
      expr: |
        sum by (service, queue) (increase(jobs_dead_lettered_total{ {{- $s }}}[15m])) > 0
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: jobs of {{ `{{ $labels.queue }}` }} moved to the dead-letter queue'
        description: '{{ `{{ $value | humanize }}` }} jobs of {{ `{{ $labels.queue }}` }} failed their last attempt in the last 15 minutes and wait in {{ `{{ $labels.queue }}` }}.dead.'
        runbook_url: {{ printf "%s/jobs-dead-lettered.md" $runbooks }}
- name: {{ $service }}.retention
  rules:
    - alert: RetentionNotRunning
      # A job never run since the oldest replica started counts from that start.
      expr: |
        (
          time() - max by (service, job) (retention_last_run_timestamp_seconds{ {{- $s }}})
          or
          0 * max by (service, job) (retention_interval_seconds{ {{- $s }}})
            + on (service) group_left () (time() - min by (service) (process_start_time_seconds{ {{- $s }}}))
        )
        > 3 * max by (service, job) (retention_interval_seconds{ {{- $s }}})
      for: 15m
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: retention job {{ `{{ $labels.job }}` }} has not run for three intervals'
        description: 'No replica of {{ $service }} finished {{ `{{ $labels.job }}` }} for {{ `{{ $value | humanizeDuration }}` }}; old rows or files pile up.'
        runbook_url: {{ printf "%s/retention-not-running.md" $runbooks }}
{{- end }}
{{- if .Values.kafka.enabled }}
- name: {{ $service }}.events
  rules:
    - alert: OutboxLagHigh
      # Every replica's relay reads the same outbox table: max, not sum.
      expr: |
        max by (service) (outbox_oldest_pending_age_seconds{ {{- $s }}}) > 300
        or max by (service) (outbox_pending_messages{ {{- $s }}}) > 10000
      for: 5m
      labels:
        severity: critical
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: domain events are not reaching Kafka'
        description: 'The outbox of {{ $service }} holds unpublished events older than 5 minutes or more than 10000 of them (now {{ `{{ $value | humanize }}` }}): other services see its changes late.'
        runbook_url: {{ printf "%s/outbox-lag-high.md" $runbooks }}
    - alert: ConsumerLagHigh
      # A partition may be reported by more than one replica around a rebalance: max per partition.
      expr: |
        sum by (service, group, topic) (max by (service, group, topic, partition) (events_consumer_lag_messages{ {{- $s }}})) > 1000
      for: 10m
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: consumer group {{ `{{ $labels.group }}` }} is behind on {{ `{{ $labels.topic }}` }}'
        description: '{{ `{{ $labels.group }}` }} has {{ `{{ $value | humanize }}` }} messages of {{ `{{ $labels.topic }}` }} not yet processed.'
        runbook_url: {{ printf "%s/consumer-lag-high.md" $runbooks }}
    - alert: ConsumerRestarting
      # The transport starts a consumer again after a crash kafkajs does not recover from; a group
      # that keeps crashing consumes little between restarts, and its lag may not show it yet.
      expr: |
        sum by (service, group) (increase(events_consumer_restarts_total{ {{- $s }}}[15m])) >= 3
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: consumer group {{ `{{ $labels.group }}` }} keeps crashing'
        description: 'The consumers of {{ `{{ $labels.group }}` }} were started again {{ `{{ $value | humanize }}` }} times in the last 15 minutes after errors kafkajs does not recover from.'
        runbook_url: {{ printf "%s/consumer-restarting.md" $runbooks }}
    - alert: EventsDeadLettered
      expr: |
        sum by (service, group, topic) (increase(events_consumer_dead_lettered_total{ {{- $s }}}[15m])) > 0
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: '{{ $service }}: events of {{ `{{ $labels.topic }}` }} moved to the dead-letter topic'
        description: '{{ `{{ $value | humanize }}` }} events of {{ `{{ $labels.topic }}` }} failed every attempt of consumer group {{ `{{ $labels.group }}` }} in the last 15 minutes and went to {{ `{{ $labels.topic }}` }}.dlq.'
        runbook_url: {{ printf "%s/events-dead-lettered.md" $runbooks }}
{{- end }}
{{- if eq $service "content" }}
- name: {{ $service }}.search-index
  rules:
    - alert: SearchIndexLagHigh
      # Every replica reads the same queue: max, not sum. The live queue only: a next layout's build
      # is not searched (PostgreSQL answers meanwhile), and its backlog is its progress.
      expr: |
        max by (service) (content_search_index_oldest_pending_age_seconds{ {{- $s }},queue="live"}) > 300
      for: 10m
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: 'content: searches miss document changes made minutes ago'
        description: 'The oldest document change queued for the search engine has waited {{ `{{ $value | humanizeDuration }}` }}: searches answer from an index that lacks it.'
        runbook_url: {{ printf "%s/search-index-lag-high.md" $runbooks }}
    - alert: SearchIndexBuildStalled
      # A build's backlog that stopped shrinking: the replicas of the release building it answer
      # searches from PostgreSQL until it serves.
      expr: |
        max by (service) (content_search_index_pending_changes{ {{- $s }},queue="build"}) > 0
          and max by (service) (delta(content_search_index_pending_changes{ {{- $s }},queue="build"}[30m])) >= 0
      for: 30m
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: 'content: a search index build has stopped progressing'
        description: '{{ `{{ $value | humanize }}` }} documents have been queued for the search index being built for an hour without the queue shrinking: searches of the release that builds it stay on PostgreSQL.'
        runbook_url: {{ printf "%s/search-index-build-stalled.md" $runbooks }}
{{- end }}
{{- if eq $service "auth" }}
- name: {{ $service }}.signing-keys
  rules:
    - alert: SigningKeyRotationOverdue
      # Keys do not expire; they are rotated on demand (monthly is the documented practice).
      expr: |
        time() - max by (service) (auth_signing_key_active_created_timestamp_seconds{ {{- $s }}}) > {{ $keyMaxAgeDays }} * 86400
      for: 1h
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: 'auth: the access-token signing key was not rotated for {{ $keyMaxAgeDays }} days'
        description: 'The active signing key is {{ `{{ $value | humanizeDuration }}` }} old; rotate it (cli rotate-signing-key).'
        runbook_url: {{ printf "%s/signing-key-rotation-overdue.md" $runbooks }}
{{- end }}
{{- if eq .Values.component "gateway" }}
- name: {{ $service }}.supergraph
  rules:
    - alert: GatewaySupergraphReloadFailing
      expr: |
        max by (service) (gateway_supergraph_reload_failing{ {{- $s }}}) == 1
      for: 5m
      labels:
        severity: warning
        service: {{ $service }}
      annotations:
        summary: 'gateway: a published supergraph is refused'
        description: 'A gateway replica refuses the supergraph file on disk and serves the previous supergraph; the release is not live, and a restarted gateway would not start.'
        runbook_url: {{ printf "%s/gateway-supergraph-reload-failing.md" $runbooks }}
{{- end }}
{{- end -}}
