# Amazon MSK IAM (kafka_sasl_mechanism = aws-msk-iam): the worker and the bridge log in to Kafka with their
# task roles. The code signs a token with the role's rotating credentials at every login
# (aws-msk-iam-sasl-signer-js, infra/kafka.ts); these policies say what each role may do on the cluster.
# With SCRAM or PLAIN the brokers authorise the user instead, and nothing here is created.

locals {
  msk_iam = var.kafka_sasl_mechanism == "aws-msk-iam"
  # arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> -> the topic's and the groups' ARNs.
  msk_topic_arn = "${replace(var.msk_cluster_arn, ":cluster/", ":topic/")}/${var.kafka_topic}"
  # The bridge's group, and the worker's one-off groups that re-read a range (<group>-reread-<uuid>).
  msk_group_arn = "${replace(var.msk_cluster_arn, ":cluster/", ":group/")}/${var.kafka_group_id}*"
}

data "aws_iam_policy_document" "msk_consume" {
  count = local.msk_iam ? 1 : 0

  statement {
    sid       = "Connect"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    resources = [var.msk_cluster_arn]
  }

  statement {
    sid       = "ReadTheTopic"
    actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
    resources = [local.msk_topic_arn]
  }

  statement {
    sid       = "ConsumerGroup"
    actions   = ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
    resources = [local.msk_group_arn]
  }
}

resource "aws_iam_role_policy" "worker_msk" {
  count = local.msk_iam ? 1 : 0

  name   = "msk-consume"
  role   = aws_iam_role.worker_task.id
  policy = data.aws_iam_policy_document.msk_consume[0].json
}

# The bridge calls no other AWS API: it has a task role only to log in to MSK.
resource "aws_iam_role" "bridge_task" {
  count = local.msk_iam ? 1 : 0

  name               = "${local.name}-bridge-task"
  description        = "Task role of the Kafka bridge: Amazon MSK IAM login and reads, nothing else"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "bridge_msk" {
  count = local.msk_iam ? 1 : 0

  name   = "msk-consume"
  role   = aws_iam_role.bridge_task[0].id
  policy = data.aws_iam_policy_document.msk_consume[0].json
}
