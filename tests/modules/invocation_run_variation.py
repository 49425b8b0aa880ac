from hookrunner.invocation import run_factory
from hookrunner.pipeline.runners import Runner, run_node

SEEN = []


class Reversed(Runner):
    # Runs nodes in reverse file order (they are independent), recording the order.
    def run(self, job):
        for node in reversed(job.pipeline.nodes):
            SEEN.append(node.name)
            run_node(job, node)


run = run_factory(runner=Reversed(), result=lambda context: {"ran": list(SEEN)})


def after(run_result):
    SEEN.append(("after_pipeline_run", run_result))
