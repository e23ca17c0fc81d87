"""The langgames game table: one `register` line per game, with a string entry point.

Adding a game touches two code files: its module in this folder and one line here. The registry,
the CLI, the conformance tests and the golden transcripts all find it from this table.
"""

from langgames.registry import register

register("langgames/NumberHunt-v0", "langgames.envs.number_hunt:NumberHunt")
register("langgames/BaseConvert-v0", "langgames.envs.base_convert:BaseConvert")
register("langgames/WriteFunction-v0", "langgames.envs.write_function:WriteFunction")
register("langgames/FractionArith-v0", "langgames.envs.fraction_arith:FractionArith")
register("langgames/Algebra-v0", "langgames.envs.algebra:Algebra")
register("langgames/Calculus-v0", "langgames.envs.calculus:Calculus")
register("langgames/CodeBreaker-v0", "langgames.envs.code_breaker:CodeBreaker")
register("langgames/BugHunt-v0", "langgames.envs.adversarial_testing:BugHunt")
register("langgames/PredictOutput-v0", "langgames.envs.predict_output:PredictOutput")
register("langgames/FindInput-v0", "langgames.envs.find_input:FindInput")
register("langgames/InduceFunction-v0", "langgames.envs.induce_function:InduceFunction")
register("langgames/FixBug-v0", "langgames.envs.fix_bug:FixBug")
register("langgames/Countdown-v0", "langgames.envs.countdown:Countdown")
register("langgames/Counterexample-v0", "langgames.envs.counterexample:Counterexample")
register("langgames/SequenceRule-v0", "langgames.envs.sequence_rule:SequenceRule")
register("langgames/FunctionDiscovery-v0", "langgames.envs.function_discovery:FunctionDiscovery")
register("langgames/ScholarsCircle-v0", "langgames.envs.scholars_circle.env:ScholarsCircle")
register("langgames/Sudoku-v0", "langgames.envs.sudoku:Sudoku")
register("langgames/GraphColoring-v0", "langgames.envs.graph_coloring:GraphColoring")
register("langgames/KnightsKnaves-v0", "langgames.envs.knights_knaves:KnightsKnaves")
register("langgames/SatAssign-v0", "langgames.envs.sat_assign:SatAssign")
register("langgames/LightsOut-v0", "langgames.envs.lights_out:LightsOut")
register("langgames/GridPlan-v0", "langgames.envs.grid_plan:GridPlan")
register("langgames/BlocksWorld-v0", "langgames.envs.blocks_world:BlocksWorld")
register("langgames/SqlQuery-v0", "langgames.envs.sql_query:SqlQuery")
register("langgames/RegexSynth-v0", "langgames.envs.regex_synth:RegexSynth")
register("langgames/Negotiation-v0", "langgames.envs.negotiation:Negotiation")
register("langgames/HiddenFunction-v0", "langgames.envs.hidden_function:HiddenFunction")
register("langgames/MathQA-v0", "langgames.envs.math_qa:MathQA")
register("langgames/CodeTests-v0", "langgames.envs.code_tests:CodeTests")
register("langgames/Nonogram-v0", "langgames.envs.nonogram:Nonogram")
register("langgames/Cryptarithm-v0", "langgames.envs.cryptarithm:Cryptarithm")
register("langgames/Futoshiki-v0", "langgames.envs.futoshiki:Futoshiki")
