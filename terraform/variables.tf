# ---------------------------------------------------------------------------
# Where
# ---------------------------------------------------------------------------

variable "project_id" {
  description = "Google Cloud project to deploy into (must already exist, with billing enabled)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project ID (6-30 lowercase letters, digits or hyphens)."
  }
}

variable "region" {
  description = "Region of the functions (and, by default, of the datasets bucket and the Firestore database)."
  type        = string
  default     = "us-central1"
}

variable "bucket_location" {
  description = <<-EOT
    Location of the datasets and source buckets: a region (e.g. "US-CENTRAL1"), a dual-region or a
    multi-region (e.g. "US"). null = the function region. The Eventarc trigger is created in the
    same location as the datasets bucket, as Cloud Storage triggers require.
  EOT
  type        = string
  default     = null
}

variable "firestore_location" {
  description = "Firestore location (a region, or a multi-region such as \"nam5\" / \"eur3\"). null = the function region."
  type        = string
  default     = null
}

variable "name_prefix" {
  description = "Prefix of the service account ids and the Artifact Registry repository (lowercase, at most 6 characters)."
  type        = string
  default     = "ed"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,5}$", var.name_prefix))
    error_message = "name_prefix must be 1-6 lowercase letters or digits, starting with a letter."
  }
}

variable "labels" {
  description = "Labels put on every resource that takes labels."
  type        = map(string)
  default = {
    app = "exploration-data"
  }
}

# ---------------------------------------------------------------------------
# Storage and catalogue
# ---------------------------------------------------------------------------

variable "datasets_bucket_name" {
  description = "Name of the private datasets bucket. null = \"<project_id>-exploration-datasets\"."
  type        = string
  default     = null
}

variable "source_bucket_name" {
  description = "Name of the bucket holding the function source archive. null = \"<project_id>-exploration-fn-source\"."
  type        = string
  default     = null
}

variable "datasets_prefix" {
  description = "Object prefix of the dataset versions (DATASETS_PREFIX): versions live under <prefix>v<N>/."
  type        = string
  default     = "datasets/"

  validation {
    condition     = var.datasets_prefix == "" || endswith(var.datasets_prefix, "/")
    error_message = "datasets_prefix must be empty or end with \"/\"."
  }
}

variable "datasets_bucket_force_destroy" {
  description = "Let `terraform destroy` delete the datasets bucket even when it still holds datasets. Off by default: datasets are data."
  type        = bool
  default     = false
}

variable "noncurrent_version_retention_days" {
  description = "Days a deleted or replaced object version is kept (both buckets are versioned) before it is removed."
  type        = number
  default     = 30
}

variable "create_firestore_database" {
  description = <<-EOT
    Create the project's "(default)" Firestore database in native mode. Set to false when the project
    already has one (a project has at most one "(default)" database; Terraform cannot adopt it
    without `terraform import`). The database is never deleted by `terraform destroy`.
  EOT
  type        = bool
  default     = true
}

variable "firestore_collection" {
  description = "Firestore collection of the dataset catalogue (FIRESTORE_COLLECTION)."
  type        = string
  default     = "datasets"
}

# ---------------------------------------------------------------------------
# Who may call
# ---------------------------------------------------------------------------

variable "invoker_members" {
  description = <<-EOT
    Principals allowed to call the HTTP functions (roles/run.invoker on each), e.g.
    ["user:me@example.com", "group:data-science@example.com", "serviceAccount:ci@p.iam.gserviceaccount.com"].
    Public access (allUsers, allAuthenticatedUsers) is refused: every call carries an identity token.
  EOT
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for m in var.invoker_members :
      !contains(["allusers", "allauthenticatedusers"], lower(m)) &&
      can(regex("^(user|group|serviceAccount|domain|principal|principalSet):.+", m))
    ])
    error_message = "invoker_members entries must be typed principals such as \"user:me@example.com\"; allUsers and allAuthenticatedUsers are not allowed."
  }
}

# ---------------------------------------------------------------------------
# Function behaviour (environment of every function)
# ---------------------------------------------------------------------------

variable "max_samples" {
  description = "MAX_SAMPLES: upper bound of nSamples a generateDataset request may ask for (a billion: 60 shards of 16,777,216 rows by default)."
  type        = number
  default     = 1000000000

  validation {
    condition     = var.max_samples >= 1 && floor(var.max_samples) == var.max_samples
    error_message = "max_samples must be a positive integer."
  }
}

variable "signed_url_ttl_seconds" {
  description = "SIGNED_URL_TTL_SECONDS: lifetime of a signed download URL when the caller gives none."
  type        = number
  default     = 3600
}

variable "signed_url_max_ttl_seconds" {
  description = "SIGNED_URL_MAX_TTL_SECONDS: longest lifetime a caller may ask for (V4 signed URLs allow at most 7 days)."
  type        = number
  default     = 604800

  validation {
    condition     = var.signed_url_max_ttl_seconds >= 1 && var.signed_url_max_ttl_seconds <= 604800
    error_message = "signed_url_max_ttl_seconds must be between 1 and 604800 (7 days, the V4 signing limit)."
  }
}

# ---------------------------------------------------------------------------
# Function sizing
# ---------------------------------------------------------------------------

variable "function_settings" {
  description = <<-EOT
    Memory, vCPU, timeout, maximum instances and per-instance request concurrency of each function.
    The defaults fit the default dataset (10M rows):

    generateDataset: generating 10M rows streams about 1.2 GB of TFRecord and 15 MB of Parquet to
      Cloud Storage while hashing them (crc32c, md5, sha256); measured peak RSS stays under 300 MB and
      the work is a few seconds of CPU on 2 vCPU. 1 GiB leaves >3x headroom over that peak (gen2
      counts the whole container, and nothing is staged on the in-memory /tmp); 2 vCPU lets
      generation, hashing and upload overlap. 540 s covers upload time for the largest
      single-invocation datasets with a wide margin. Concurrency 1: one generation per instance, so
      a second request gets its own instance instead of halving the CPU and doubling the memory of
      the first; 5 instances bound the cost of a burst of requests.
    recordDatasetMetadata: stream-parses one metadata_v{N}.json per event; with 1,000,000 creative
      packs that JSON is ~147 MB (peak RSS ~200 MB), 1 GiB and concurrency 1; events are few (three objects
      per version), so 10 instances are plenty, and 120 s covers Firestore writes with retries.
    generateShard: writes one shard; the largest default shard is 16,777,216 rows (docs/design.md §2), about
      2.03 GB of TFRecord and 25 MB of Parquet. Measured with the CLI on one shard of that size
      (`node build/cli/main.js generate --samples 16777216`, docs/deploy.md): 5.7 s wall, 10.4 s of CPU
      (rows, Parquet, crc32c/md5/sha256 of both files), peak RSS 238 MB. 2 vCPU lets generating,
      hashing and the upload stream overlap, as for generateDataset; 1 GiB is 4x the peak. The upload
      of 2 GB is the long part (tens of seconds, assuming ~100 MB/s for one stream), far inside the
      540 s that event-driven gen2 functions may run. Concurrency 1: one shard per instance, so
      shards spread over instances; max_instances 64 bounds the fan-out (a billion rows is 60 shards,
      so all of them run at once) and the cost of a runaway backlog.
    loadParquet / loadTfrecord / listDatasets: a Firestore read and an IAM signBlob call per request,
      I/O bound, so 512 MiB / 1 vCPU serving 20 concurrent requests, 60 s timeout.
    loadMetadata: returns the metadata document inline up to 16 MiB, a summary past that
      (docs/large-configs.md): 1 GiB and concurrency 4.
  EOT
  type = map(object({
    memory          = string
    cpu             = string
    timeout_seconds = number
    max_instances   = number
    concurrency     = number
  }))
  default = {
    generateDataset       = { memory = "1Gi", cpu = "2", timeout_seconds = 540, max_instances = 5, concurrency = 1 }
    recordDatasetMetadata = { memory = "1Gi", cpu = "1", timeout_seconds = 120, max_instances = 10, concurrency = 1 }
    generateShard         = { memory = "1Gi", cpu = "2", timeout_seconds = 540, max_instances = 64, concurrency = 1 }
    loadParquet           = { memory = "512Mi", cpu = "1", timeout_seconds = 60, max_instances = 10, concurrency = 20 }
    loadTfrecord          = { memory = "512Mi", cpu = "1", timeout_seconds = 60, max_instances = 10, concurrency = 20 }
    loadMetadata          = { memory = "1Gi", cpu = "1", timeout_seconds = 60, max_instances = 10, concurrency = 4 }
    listDatasets          = { memory = "512Mi", cpu = "1", timeout_seconds = 60, max_instances = 10, concurrency = 20 }
  }

  validation {
    condition = alltrue([
      for name in ["generateDataset", "recordDatasetMetadata", "generateShard", "loadParquet", "loadTfrecord", "loadMetadata", "listDatasets"] :
      contains(keys(var.function_settings), name)
    ])
    error_message = "function_settings must have an entry for each of the seven functions (use function_overrides to change a few values)."
  }

  validation {
    condition = alltrue([
      for s in values(var.function_settings) :
      s.timeout_seconds >= 1 && s.timeout_seconds <= 3600 && s.max_instances >= 1 && s.concurrency >= 1
    ])
    error_message = "timeout_seconds must be 1-3600, max_instances and concurrency at least 1."
  }
}

variable "function_overrides" {
  description = "Per-function changes on top of function_settings, e.g. { generateDataset = { memory = \"2Gi\" } }."
  type = map(object({
    memory          = optional(string)
    cpu             = optional(string)
    timeout_seconds = optional(number)
    max_instances   = optional(number)
    concurrency     = optional(number)
  }))
  default = {}

  validation {
    condition = alltrue([
      for name in keys(var.function_overrides) :
      contains(["generateDataset", "recordDatasetMetadata", "generateShard", "loadParquet", "loadTfrecord", "loadMetadata", "listDatasets"], name)
    ])
    error_message = "function_overrides keys must be function names (generateDataset, recordDatasetMetadata, generateShard, loadParquet, loadTfrecord, loadMetadata, listDatasets)."
  }
}

# ---------------------------------------------------------------------------
# Source packaging
# ---------------------------------------------------------------------------

variable "build_dir" {
  description = "Directory of the compiled JavaScript (`npm run build` output), relative to this module."
  type        = string
  default     = "../build"
}

variable "build_globs" {
  description = "Files of build_dir that go into the function source archive (package.json's main is build/functions/index.js)."
  type        = list(string)
  default     = ["functions/**", "shared/**"]
}

variable "grant_pubsub_token_creator" {
  description = "Grant the Pub/Sub service agent roles/iam.serviceAccountTokenCreator on the Eventarc delivery identity. Needed only in projects created before 8 April 2021."
  type        = bool
  default     = false
}
