"""Running one job as a supervised subprocess (`supervise.run_process`) and everything it takes:
starting it (`spawn`), watching its main process (`child`), finding and killing the rest of its
tree (`tree`), pumping its output (`output`); `spec` is what a run is given and gives back."""
