{{- define "multipult.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "multipult.fullname" . }}
  labels:
    {{- include "multipult.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "multipult.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .Values.port }}
      targetPort: http
      protocol: TCP
    - name: metrics
      port: {{ .Values.metricsPort }}
      targetPort: metrics
      protocol: TCP
{{- end -}}

{{/* Headless, metrics only: lets the ServiceMonitor (it selects by the service's labels) scrape the worker pods. */}}
{{- define "multipult.workerMetricsService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "multipult.workloadName" . }}
  labels:
    {{- include "multipult.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  clusterIP: None
  selector:
    {{- include "multipult.podSelectorLabels" . | nindent 4 }}
  ports:
    - name: metrics
      port: {{ .Values.metricsPort }}
      targetPort: metrics
      protocol: TCP
{{- end -}}

{{- define "multipult.serviceAccount" -}}
{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "multipult.serviceAccountName" . }}
  labels:
    {{- include "multipult.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
automountServiceAccountToken: false
{{- end -}}
{{- end -}}

{{- define "multipult.hpa" -}}
{{- if .Values.autoscaling.enabled -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "multipult.workloadName" . }}
  labels:
    {{- include "multipult.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "multipult.workloadName" . }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .Values.autoscaling.targetCPUUtilizationPercentage }}
    {{- with .Values.autoscaling.customMetric }}
    {{- if .enabled }}
    # Served by a metrics adapter (e.g. prometheus-adapter) from the service's own metrics.
    - type: Pods
      pods:
        metric:
          name: {{ .name }}
        target:
          type: AverageValue
          averageValue: {{ .targetAverageValue | quote }}
    {{- end }}
    {{- end }}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
{{- end -}}
{{- end -}}

{{- define "multipult.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "multipult.workloadName" . }}
  labels:
    {{- include "multipult.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "multipult.podSelectorLabels" . | nindent 6 }}
{{- end -}}
