"""The scoring run's pipeline: bulk extraction per shard, global fit, predictions and write-back."""
