namespace tginvite::dispatch {}
