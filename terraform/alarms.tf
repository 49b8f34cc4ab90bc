# CloudWatch alarms for the conditions of monitoring/alerts.yml, from metric filters on the services' JSON logs
# (README.md, "Alarms", says why not Amazon Managed Service for Prometheus). Every minute the worker logs an
# event "pipeline_status" and the bridge an event "stream_status" (ops/status-log.ts, ops/bridge-ops.ts); the
# filters below turn their fields into metrics of the namespace KioskPipeline/<environment>.

locals {
  alarm_namespace = "KioskPipeline/${var.environment}"
  alarm_actions   = var.alarm_sns_topic_arn == "" ? [] : [var.alarm_sns_topic_arn]

  # metric name => [log group, event, JSON field]; a field absent from a line publishes nothing.
  status_metrics = {
    StreamRowsLoaded            = ["worker", "pipeline_status", "streamLoaded"]
    StreamRowsRejected          = ["worker", "pipeline_status", "streamRejected"]
    BatchRowsLoaded             = ["worker", "pipeline_status", "batchLoaded"]
    BatchRowsRejected           = ["worker", "pipeline_status", "batchRejected"]
    LoadRetries                 = ["worker", "pipeline_status", "loadRetries"]
    StreamStaleWhileOpenSeconds = ["worker", "pipeline_status", "streamStaleWhileOpenSeconds"]
    BatchLastRunFailed          = ["worker", "pipeline_status", "batchLastRunFailed"]
    BatchHoursSinceCompleted    = ["worker", "pipeline_status", "batchHoursSinceCompleted"]
    StreamMaxLagMessages        = ["bridge", "stream_status", "maxLagMessages"]
  }

  status_log_groups = {
    worker = aws_cloudwatch_log_group.worker.name
    bridge = aws_cloudwatch_log_group.bridge.name
  }
}

resource "aws_cloudwatch_log_metric_filter" "status" {
  for_each = local.status_metrics

  name           = "${local.name}-${each.key}"
  log_group_name = local.status_log_groups[each.value[0]]
  pattern        = "{ ($.event = \"${each.value[1]}\") && ($.${each.value[2]} = *) }"

  metric_transformation {
    name      = each.key
    namespace = local.alarm_namespace
    value     = "$.${each.value[2]}"
    unit      = "None"
  }
}

# One per status line: a service that stops logging them is down (or cannot start).
resource "aws_cloudwatch_log_metric_filter" "status_lines" {
  for_each = { worker = "pipeline_status", bridge = "stream_status" }

  name           = "${local.name}-${each.key}-status-lines"
  log_group_name = local.status_log_groups[each.key]
  pattern        = "{ $.event = \"${each.value}\" }"

  metric_transformation {
    name          = "${title(each.key)}StatusLines"
    namespace     = local.alarm_namespace
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "partition_stuck" {
  alarm_name          = "${local.name}-partition-stuck"
  alarm_description   = "Messages wait in Kafka (largest partition lag > 0) and the stream stored nothing, every minute for 5 minutes. Check `client stream status` and the stream workflows."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "stuck"
    expression  = "IF(lag > 0 AND (FILL(loaded, 0) + FILL(rejected, 0)) == 0, 1, 0)"
    label       = "waiting and not storing"
    return_data = true
  }

  metric_query {
    id = "lag"
    metric {
      namespace   = local.alarm_namespace
      metric_name = "StreamMaxLagMessages"
      period      = 60
      stat        = "Minimum"
    }
  }

  metric_query {
    id = "loaded"
    metric {
      namespace   = local.alarm_namespace
      metric_name = "StreamRowsLoaded"
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "rejected"
    metric {
      namespace   = local.alarm_namespace
      metric_name = "StreamRowsRejected"
      period      = 60
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "no_fresh_press" {
  alarm_name          = "${local.name}-no-fresh-press"
  alarm_description   = "No stream press stored for 30 minutes while the museum is open (the worker reports the age only from 09:15 to 18:15 London time). Kiosks, producer, Kafka or bridge may be down."
  namespace           = local.alarm_namespace
  metric_name         = "StreamStaleWhileOpenSeconds"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "reject_rate" {
  for_each = { stream = "Stream", batch = "Batch" }

  alarm_name          = "${local.name}-${each.key}-reject-rate"
  alarm_description   = "Over 25% of ${each.key} rows rejected for 10 minutes. See `client rejects list`."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0.25
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "IF(loaded + rejected > 0, rejected / (loaded + rejected), 0)"
    label       = "rejected share"
    return_data = true
  }

  metric_query {
    id = "loaded"
    metric {
      namespace   = local.alarm_namespace
      metric_name = "${each.value}RowsLoaded"
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id = "rejected"
    metric {
      namespace   = local.alarm_namespace
      metric_name = "${each.value}RowsRejected"
      period      = 300
      stat        = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "batch_run_failed" {
  alarm_name          = "${local.name}-batch-run-failed"
  alarm_description   = "The latest finished batch run failed (run ledger); clears when a later run completes. Temporal Web UI: KioskPipeline = 'batch' AND ExecutionStatus = 'Failed'."
  namespace           = local.alarm_namespace
  metric_name         = "BatchLastRunFailed"
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "scheduled_run_missed" {
  alarm_name          = "${local.name}-scheduled-run-missed"
  alarm_description   = "No batch run completed for ${var.batch_run_max_hours} hours: the daily scheduled run was missed, failed or is stuck. Check `client schedule describe`."
  namespace           = local.alarm_namespace
  metric_name         = "BatchHoursSinceCompleted"
  statistic           = "Minimum"
  period              = 900
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.batch_run_max_hours
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "load_retries" {
  alarm_name          = "${local.name}-load-retries-climbing"
  alarm_description   = "More than 3 load activity retries in 15 minutes: an infrastructure fault (PostgreSQL, S3) is being retried. The worker's JSON logs carry the activity and workflow ids."
  namespace           = local.alarm_namespace
  metric_name         = "LoadRetries"
  statistic           = "Sum"
  period              = 900
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "status_missing" {
  for_each = aws_cloudwatch_log_metric_filter.status_lines

  alarm_name          = "${local.name}-${each.key}-silent"
  alarm_description   = "The ${each.key} logged no status line for 5 minutes: no task is running, or none gets that far. Without it the other alarms cannot fire."
  namespace           = local.alarm_namespace
  metric_name         = each.value.metric_transformation[0].name
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
