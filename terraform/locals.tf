data "google_project" "this" {
  project_id = var.project_id
}

locals {
  bucket_location    = upper(coalesce(var.bucket_location, var.region))
  firestore_location = coalesce(var.firestore_location, var.region)
  # Cloud Storage triggers must live in the bucket's location ("us-central1", "us", "eur4", ...).
  trigger_region = lower(local.bucket_location)

  datasets_bucket = coalesce(var.datasets_bucket_name, "${var.project_id}-exploration-datasets")
  source_bucket   = coalesce(var.source_bucket_name, "${var.project_id}-exploration-fn-source")

  # Function name = entry point registered with functions-framework (docs/design.md §5).
  # kind: http or event; sa: service account id suffix; role: what its identity may do (iam.tf);
  # trigger (event functions): "storage" (object finalized in the datasets bucket) or
  # "shards" (a message on the shard topic, docs/design.md §7).
  functions = {
    generateDataset       = { kind = "http", sa = "generate-dataset", role = "generator", trigger = null }
    recordDatasetMetadata = { kind = "event", sa = "record-dataset-metadata", role = "recorder", trigger = "storage" }
    generateShard         = { kind = "event", sa = "generate-shard", role = "shard-writer", trigger = "shards" }
    loadParquet           = { kind = "http", sa = "load-parquet", role = "loader", trigger = null }
    loadTfrecord          = { kind = "http", sa = "load-tfrecord", role = "loader", trigger = null }
    loadMetadata          = { kind = "http", sa = "load-metadata", role = "loader", trigger = null }
    listDatasets          = { kind = "http", sa = "list-datasets", role = "lister", trigger = null }
  }
  http_functions  = { for name, f in local.functions : name => f if f.kind == "http" }
  event_functions = { for name, f in local.functions : name => f if f.kind == "event" }

  # What each trigger listens to (functions.tf's event_trigger block).
  event_types = {
    storage = "google.cloud.storage.object.v1.finalized"
    shards  = "google.cloud.pubsub.topic.v1.messagePublished"
  }

  # function_settings with the non-null fields of function_overrides on top.
  overrides = {
    for name, o in var.function_overrides : name => { for k, v in o : k => v if v != null }
  }
  settings = {
    for name in keys(local.functions) : name => merge(var.function_settings[name], try(local.overrides[name], {}))
  }

  # The same environment for every function (docs/design.md §8).
  function_env = {
    GOOGLE_CLOUD_PROJECT       = var.project_id
    DATASETS_BUCKET            = local.datasets_bucket
    DATASETS_PREFIX            = var.datasets_prefix
    FIRESTORE_COLLECTION       = var.firestore_collection
    MAX_SAMPLES                = tostring(var.max_samples)
    SIGNED_URL_TTL_SECONDS     = tostring(var.signed_url_ttl_seconds)
    SIGNED_URL_MAX_TTL_SECONDS = tostring(var.signed_url_max_ttl_seconds)
    # A version's lease is generateDataset's timeout plus a margin (docs/design.md §6).
    GENERATE_TIMEOUT_SECONDS      = tostring(local.settings["generateDataset"].timeout_seconds)
    GENERATE_LEASE_MARGIN_SECONDS = "60"
    # Eventarc retries for 24 h; older storage events are acknowledged unrecorded.
    EVENT_MAX_AGE_SECONDS = tostring(25 * 3600)
    # generateDataset publishes a sharded request's shard messages here (pubsub.tf).
    SHARD_TOPIC = google_pubsub_topic.shards.name
    # A sharded version's lease covers its fan-out: waves of max_instances shards,
    # each within generateShard's timeout (shared/settings.ts shardedLeaseMsOf).
    GENERATE_SHARD_TIMEOUT_SECONDS = tostring(local.settings["generateShard"].timeout_seconds)
    SHARD_MAX_INSTANCES            = tostring(local.settings["generateShard"].max_instances)
    # A shard whose message failed this many deliveries fails its version.
    SHARD_MAX_ATTEMPTS = "5"
    # Express (under functions-framework) hides error details in production.
    NODE_ENV = "production"
  }
}
