import Autodiff
import Compiler
import Distill
import GraphIR
import Reference
import Runtime
import Tensor
import Testing

/// serkd's SeRKD operators against PyTorch: a literal port of STViT's unfold/fold super tokens and of
/// lenscloth/RKD's losses, with autograd gradients (scripts/make_serkd_fixtures.py). Tolerances:
/// losses and super tokens 1e-5 relative, gradients 1e-4 relative to the tensor's largest entry.
@Suite struct SeRKDFixtureTests {
    struct Variant: CustomTestStringConvertible, Sendable {
        var map: String, label: String, height: Int, grid: Int, iterations: Int, border: SuperpixelBorder
        var hasAssociation: Bool, hasGradient: Bool
        var testDescription: String { "\(map).\(label)" }
    }

    static let variants = [
        Variant(map: "sp8x8", label: "iter0", height: 8, grid: 2, iterations: 0, border: .stvit, hasAssociation: true, hasGradient: true),
        Variant(map: "sp8x8", label: "iter1", height: 8, grid: 2, iterations: 1, border: .stvit, hasAssociation: true, hasGradient: true),
        Variant(map: "sp8x8", label: "iter2", height: 8, grid: 2, iterations: 2, border: .stvit, hasAssociation: true, hasGradient: true),
        Variant(map: "sp8x8", label: "iter1_mask", height: 8, grid: 2, iterations: 1, border: .mask, hasAssociation: true, hasGradient: true),
        Variant(map: "sp6x6g3", label: "iter1", height: 6, grid: 3, iterations: 1, border: .stvit, hasAssociation: true, hasGradient: false),
        Variant(map: "sp6x6g3", label: "iter1_mask", height: 6, grid: 3, iterations: 1, border: .mask, hasAssociation: true, hasGradient: false),
        Variant(map: "sp14x14", label: "iter1", height: 14, grid: 2, iterations: 1, border: .stvit, hasAssociation: false, hasGradient: true),
    ]

    @Test("superpixel tokens, Q̂ and the gradient Q̂·dS match STViT's unfold/fold code", arguments: variants)
    func superpixelTokens(variant: Variant) throws {
        let x = try SeRKDCheck.fixture("\(variant.map).x")
        let op = Op.superpixelTokens(SuperpixelClustering(height: variant.height, width: variant.height, grid: variant.grid,
                                                          iterations: variant.iterations, border: variant.border))
        let outputs = try SeRKDCheck.run(op, [x])
        let prefix = "\(variant.map).\(variant.label)"
        #expect(SeRKDCheck.relativeError(outputs[0], try SeRKDCheck.fixture("\(prefix).s")) < 1e-5)
        #expect(SeRKDCheck.relativeError(try Reference.evaluate(op, [x])[0], try SeRKDCheck.fixture("\(prefix).s")) < 1e-6)
        if variant.hasAssociation {
            #expect(SeRKDCheck.relativeError(outputs[1], try SeRKDCheck.fixture("\(prefix).q")) < 1e-5)
        }
        if variant.hasGradient {
            // The gradient rule of the op: dX = Q̂·dS with the association held constant, as STViT's autograd sees it.
            let dx = try SeRKDCheck.run(.matMul(MatMul()), [outputs[1], try SeRKDCheck.fixture("\(variant.map).upstream")])[0]
            #expect(SeRKDCheck.relativeError(dx, try SeRKDCheck.fixture("\(prefix).dx")) < 1e-4)
        }
    }

    @Test("RKD distance and angle losses and their gradients match lenscloth/RKD's code", arguments: ["rel2x49", "rel3x16"])
    func relationLosses(name: String) throws {
        let student = try SeRKDCheck.fixture("\(name).student"), teacher = try SeRKDCheck.fixture("\(name).teacher")
        let one = Tensor(scalar: Float(1))
        let cases: [(label: String, forward: Op, backward: Op)] = [
            ("distance_image", .rkdDistance(perImageMean: true), .rkdDistanceBackward(perImageMean: true)),
            ("distance_batch", .rkdDistance(perImageMean: false), .rkdDistanceBackward(perImageMean: false)),
            ("angle", .rkdAngle(chunk: 5), .rkdAngleBackward(chunk: 5)),
        ]
        for (label, forward, backward) in cases {
            let loss = try SeRKDCheck.run(forward, [student, teacher])[0]
            let gradient = try SeRKDCheck.run(backward, [student, teacher, one])[0]
            #expect(SeRKDCheck.relativeError(loss, try SeRKDCheck.fixture("\(name).\(label)")) < 1e-5, "\(label) loss")
            #expect(SeRKDCheck.relativeError(gradient, try SeRKDCheck.fixture("\(name).\(label)_grad")) < 1e-4, "\(label) gradient")
        }
    }

    @Test("0.5·L_D + L_A on superpixel tokens of a 14×14 map and its gradient to the student tokens match PyTorch")
    func pipeline() throws {
        let student = try SeRKDCheck.fixture("pipeline.student"), teacher = try SeRKDCheck.fixture("pipeline.teacher")
        var graph = Graph(name: "pipeline")
        let xs = graph.addInput("student", TensorType(.float32, student.shape))
        let xt = graph.addInput("teacher", TensorType(.float32, teacher.shape))
        let ss = try graph.clusterTokens(xs, TokenClustering(), name: "student_tokens")
        let st = try graph.clusterTokens(xt, TokenClustering(), name: "teacher_tokens")
        let loss = try graph.relationLoss(student: ss, teacher: st, RelationLoss(), name: "relation")
        // The gradient by hand, as the autodiff rules build it: each term's backward op with its
        // weight as upstream, summed, then through the association.
        let association = try #require(graph.value(named: "student_tokens.association"))
        let half = graph.addConstant("half", Tensor(scalar: Float(0.5))), one = graph.addConstant("one", Tensor(scalar: Float(1)))
        let dDistance = try graph.apply1(.rkdDistanceBackward(perImageMean: true), [ss, st, half], name: "d_distance")
        let dAngle = try graph.apply1(.rkdAngleBackward(chunk: 8), [ss, st, one], name: "d_angle")
        let dTokens = try graph.apply1(.binary(.add), [dDistance, dAngle], name: "d_tokens")
        let dx = try graph.apply1(.matMul(MatMul()), [association, dTokens], name: "d_student")
        graph.outputs = [try #require(loss.total), dx]
        let outputs = try Executor(try Lowering.plan(graph).plan).run([student, teacher])
        #expect(SeRKDCheck.relativeError(outputs[0], try SeRKDCheck.fixture("pipeline.loss")) < 1e-5)
        #expect(SeRKDCheck.relativeError(outputs[1], try SeRKDCheck.fixture("pipeline.grad")) < 1e-4)
    }
}

/// The SeRKD gradient rules, applied by reverse-mode autodiff, against PyTorch's autograd.
@Suite struct SeRKDGradientRuleTests {
    @Test("autodiff through superpixel tokens gives Q̂·dS, STViT's gradient with the association held constant",
          arguments: ["iter1", "iter2", "iter1_mask"])
    func superpixelRule(label: String) throws {
        let x = try SeRKDCheck.fixture("sp8x8.x"), upstream = try SeRKDCheck.fixture("sp8x8.upstream")
        var graph = Graph(name: "superpixel")
        let tokens = graph.addInput("tokens", TensorType(.float32, x.shape))
        let clustering = TokenClustering(grid: 2, iterations: label == "iter2" ? 2 : 1, border: label == "iter1_mask" ? .mask : .stvit)
        let s = try graph.clusterTokens(tokens, clustering, name: "super")
        let weights = graph.addConstant("upstream", upstream)
        let product = try graph.apply1(.binary(.mul), [s, weights], name: "product")
        let loss = try graph.apply1(.reduce(.sum, axes: [0, 1, 2], keepDims: false), [product], name: "loss")
        let gradients = try Autodiff.gradients(of: loss, withRespectTo: [tokens], in: &graph)
        graph.outputs = [try #require(gradients.values[tokens])]
        let dx = try Executor(try Lowering.plan(graph).plan).run([x])[0]
        #expect(SeRKDCheck.relativeError(dx, try SeRKDCheck.fixture("sp8x8.\(label).dx")) < 1e-4)
    }

    @Test("autodiff of 0.5·L_D + L_A through both clusterings reaches the student tokens only and matches PyTorch")
    func pipelineRules() throws {
        let student = try SeRKDCheck.fixture("pipeline.student"), teacher = try SeRKDCheck.fixture("pipeline.teacher")
        var graph = Graph(name: "pipeline")
        let xs = graph.addInput("student", TensorType(.float32, student.shape))
        let xt = graph.addInput("teacher", TensorType(.float32, teacher.shape))
        let ss = try graph.clusterTokens(xs, TokenClustering(), name: "student_tokens")
        let st = try graph.clusterTokens(xt, TokenClustering(), name: "teacher_tokens")
        let loss = try #require(try graph.relationLoss(student: ss, teacher: st, RelationLoss(), name: "relation").total)
        let gradients = try Autodiff.gradients(of: loss, withRespectTo: [xs], in: &graph)
        // The teacher's clustering stays out of the backward pass.
        #expect(!graph.nodes.contains { $0.name.hasPrefix("grad/teacher_tokens") })
        graph.outputs = [loss, try #require(gradients.values[xs])]
        let outputs = try Executor(try Lowering.plan(graph).plan).run([student, teacher])
        #expect(SeRKDCheck.relativeError(outputs[0], try SeRKDCheck.fixture("pipeline.loss")) < 1e-5)
        #expect(SeRKDCheck.relativeError(outputs[1], try SeRKDCheck.fixture("pipeline.grad")) < 1e-4)
    }
}
