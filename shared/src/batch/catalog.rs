//! Which models Bedrock runs batch jobs for, how many records a job needs, and what a batch
//! answer costs.
//!
//! Sources. Models: AWS's "Supported Regions and models for batch inference"
//! (<https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-supported.html>).
//! Minimum records: the Bedrock quota "Minimum number of records per batch inference job"
//! (<https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock>), 100.
//! Price: AWS prices batch inference at 50% of on-demand for the models that support it
//! (<https://aws.amazon.com/bedrock/pricing/>, "Batch"), so a batch price is half the catalog's
//! on-demand price (or half of the deployment's `MODEL_PRICES`).

use crate::catalog::Price;
use crate::config::AllowedModel;
use crate::config::batch::BatchSettings;

/// Foundation models (ids without an inference-profile prefix) Bedrock runs batch jobs for.
pub const BATCH_MODELS: &[&str] = &[
    "mistral.mistral-large-2407-v1:0",
    "mistral.mistral-small-2402-v1:0",
    "mistral.mistral-large-2402-v1:0",
    "mistral.mistral-7b-instruct-v0:2",
    "mistral.mixtral-8x7b-instruct-v0:1",
];

/// Bedrock's minimum records per batch job.
pub const MIN_RECORDS: usize = 100;

/// Batch price as a share of on-demand.
pub const BATCH_PRICE_FACTOR: f64 = 0.5;

/// Whether Bedrock runs batch jobs for `model` (the catalog's list, plus `BATCH_MODELS`).
pub fn supports(model: &AllowedModel, settings: &BatchSettings) -> bool {
    let base = model.catalog.map_or(model.id.as_str(), |c| c.id);
    let alias = model.catalog.map(|c| c.alias);
    BATCH_MODELS.contains(&base)
        || settings.extra_models.iter().any(|m| m == &model.id || m == base || alias == Some(m.as_str()))
}

/// The minimum records per job (`BATCH_MIN_RECORDS` overrides Bedrock's, for the emulator).
pub fn min_records(settings: &BatchSettings) -> usize {
    settings.min_records.unwrap_or(MIN_RECORDS)
}

/// What `model` costs in a batch, per 1M tokens: half its on-demand price.
pub fn price(model: &AllowedModel) -> Option<Price> {
    model.price.map(|p| Price {
        input_per_million: p.input_per_million * BATCH_PRICE_FACTOR,
        output_per_million: p.output_per_million * BATCH_PRICE_FACTOR,
    })
}
