import networkx as nx
import numpy as np
import pytest

from tcl_circuits import network
from tcl_circuits.config import Role
from tcl_circuits.errors import GraphError


def test_from_graph_orders_nodes_and_reads_attributes(triangle):
    spec = network.from_graph(triangle)
    assert spec.labels == ("in", "h", "out", "gnd")
    assert spec.roles == (Role.INPUT, Role.HIDDEN, Role.OUTPUT, Role.GROUND)
    assert spec.input_nodes == (0,) and spec.output_nodes == (2,) and spec.ground_nodes == (3,)
    assert spec.free_nodes == (1, 2)
    assert spec.edges == ((0, 1), (1, 2), (1, 3), (2, 3))
    np.testing.assert_allclose(spec.conductance_s, [1e-3, 2e-3, 5e-4, 1e-3])
    np.testing.assert_allclose(spec.input_voltage_v, [1.0])
    np.testing.assert_allclose(spec.target_v, [0.3])


def test_spec_is_immutable(triangle):
    spec = network.from_graph(triangle)
    with pytest.raises(ValueError):
        spec.conductance_s[0] = 1.0
    with pytest.raises(AttributeError):
        spec.labels = ()


def _broken(triangle, change):
    g = triangle.copy()
    change(g)
    return g


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda g: g.add_edge("h", "h", conductance=1e-3), "self-loop"),
        (lambda g: g.nodes["h"].pop("role"), "node 'h' has no 'role'"),
        (lambda g: g.nodes["h"].update(role="banana"), "node 'h' has role 'banana'"),
        (lambda g: g.add_node("lonely", role="hidden"), "node 'lonely' is not connected"),
        (lambda g: g.edges["in", "h"].update(conductance=float("nan")), "edge 'in'-'h'.*finite"),
        (lambda g: g.edges["in", "h"].update(conductance=-1e-3), "edge 'in'-'h'.*> 0"),
        (lambda g: g.edges["in", "h"].update(conductance=0.0), "edge 'in'-'h'.*> 0"),
        (lambda g: g.edges["in", "h"].update(conductance="lots"), "must be a number"),
        (lambda g: g.edges["in", "h"].pop("conductance"), "no 'conductance'"),
        (
            lambda g: (g.nodes["in"].update(role="hidden"), g.nodes["in"].pop("voltage")),
            "no node with role 'input'",
        ),
        (
            lambda g: (g.nodes["out"].update(role="hidden"), g.nodes["out"].pop("target")),
            "no node with role 'output'",
        ),
        (
            lambda g: g.nodes["in"].update(role="hidden"),
            "'voltage' belongs to input and bias nodes, this is hidden",
        ),
        (lambda g: g.nodes["h"].update(colour="red"), "node 'h': unknown node attribute 'colour'"),
        (
            lambda g: g.edges["in", "h"].update(element="memristor"),
            "edge 'in'-'h': unknown element 'memristor'",
        ),
        (
            lambda g: (g.edges["in", "h"].pop("conductance"), g.edges["in", "h"].update(element="diode")),
            "'anode' must name",
        ),
        (lambda g: g.edges["in", "h"].update(conductance="1_0e-3"), "must be a number in S"),
        (lambda g: g.nodes["in"].update(voltage=float("inf")), "voltage.*finite"),
        (lambda g: g.edges["in", "h"].update(g_min=2.0, g_max=1.0), "bounds"),
    ],
)
def test_bad_graphs_raise_graph_error_naming_the_culprit(triangle, change, match):
    with pytest.raises(GraphError, match=match):
        network.from_graph(_broken(triangle, change))


def test_island_without_source_is_floating(triangle):
    g = triangle.copy()
    g.add_node("a", role="hidden")
    g.add_node("b", role="output")
    g.add_edge("a", "b", conductance=1e-3)
    with pytest.raises(GraphError, match="'a' is not connected.*1 more"):
        network.from_graph(g)


def test_directed_graph_is_refused():
    with pytest.raises(GraphError, match="undirected"):
        network.from_graph(nx.DiGraph())


def test_lattice_roles():
    spec = network.from_graph(network.lattice(4, 4, seed=3))
    assert spec.n_nodes == 16 and spec.n_edges == 24
    assert [spec.labels[i] for i in spec.input_nodes] == [(0, 0), (1, 0), (2, 0)]
    assert [spec.labels[i] for i in spec.ground_nodes] == [(3, 0)]
    assert [spec.labels[i] for i in spec.output_nodes] == [(1, 3), (2, 3)]
    assert np.all((spec.conductance_s >= 5e-4) & (spec.conductance_s <= 2e-3))
    again = network.from_graph(network.lattice(4, 4, seed=3))
    np.testing.assert_array_equal(spec.conductance_s, again.conductance_s)


@pytest.mark.parametrize(
    ("description", "nodes", "edges"),
    [("lattice:3x5", 15, 22), ("regular:12,3", 12, 18), ("layered:3-4-2", 10, 4 * 4 + 4 * 2)],
)
def test_builders(description, nodes, edges):
    spec = network.from_graph(network.build(description, seed=1))
    assert spec.n_nodes == nodes and spec.n_edges == edges


def test_erdos_renyi_builder_is_connected_and_seeded():
    a = network.from_graph(network.build("er:15,0.4", seed=2))
    b = network.from_graph(network.build("er:15,0.4", seed=2))
    assert a.edges == b.edges and len(a.input_nodes) == 3 and len(a.output_nodes) == 2


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: network.build("torus:3x3"), "unknown network 'torus:3x3'"),
        (lambda: network.lattice(1, 5), "at least 2x2"),
        (lambda: network.lattice(3, 3, n_inputs=3), "1..2 inputs"),
        (lambda: network.lattice(3, 3, n_outputs=4), "1..3 outputs"),
        (lambda: network.random_regular(5, 3), "no 3-regular graph"),
        (lambda: network.erdos_renyi(10, 0.0), "edge probability"),
        (lambda: network.erdos_renyi(30, 0.02, seed=1), "not connected"),
        (lambda: network.layered([3]), "at least 2 layers"),
        (lambda: network.lattice(3, 3, g_range_s=(1e-3, 1e-4)), "conductance range"),
        (lambda: network.random_regular(4, 2, n_inputs=3, n_outputs=2), "cannot hold"),
        (
            lambda: network.build("lattice:3x3", diode_rs_ohm=2.0),
            "applies to drn networks, not 'lattice:3x3'",
        ),
    ],
)
def test_builder_errors(call, match):
    with pytest.raises(GraphError, match=match):
        call()


def test_graphml_round_trip(tmp_path, triangle):
    spec = network.from_graph(triangle)
    path = tmp_path / "net.graphml"
    nx.write_graphml(network.to_graph(spec), path)
    again = network.from_graph(network.load_graph(path))
    assert again.labels == spec.labels and again.roles == spec.roles and again.edges == spec.edges
    np.testing.assert_allclose(again.conductance_s, spec.conductance_s)
    np.testing.assert_allclose(again.target_v, spec.target_v)


def test_edgelist_with_node_directives(tmp_path):
    path = tmp_path / "net.edges"
    path.write_text(
        "#@ node in1 role=input voltage=0.8\n#@ node out role=output target=0.3\n#@ node gnd role=ground\n"
        "#@ node h role=hidden\n# a comment\nin1 h 1e-3\nh out 2e-3\nh gnd 1e-3\nout gnd 5e-4\n"
    )
    spec = network.from_graph(network.load_graph(path))
    assert spec.n_edges == 4
    np.testing.assert_allclose(spec.input_voltage_v, [0.8])


@pytest.mark.parametrize(
    ("value", "siemens"),
    [("2e-3", 2e-3), ("2mS", 2e-3), ("500uS", 5e-4), ("500kohm", 2e-6), ("1kΩ", 1e-3), ("2.2KOhm", 1 / 2200)],
)
def test_an_edge_list_reads_siemens_or_a_resistance_by_its_unit(tmp_path, value, siemens):
    path = tmp_path / "net.edges"
    path.write_text(f"#@ node a role=input voltage=0.8\n#@ node b role=ground\na b {value}\n")
    assert network.load_edgelist(path).edges["a", "b"]["conductance"] == pytest.approx(siemens, rel=1e-15)


@pytest.mark.parametrize("value", ["1k", "1m", "500u", "500µ", "1meg"])
def test_an_edge_list_refuses_a_suffix_without_its_unit_naming_file_and_line(tmp_path, value):
    """``1k`` is 1 kΩ to a SPICE user and would be 1 kS (a 1 mΩ resistor) to a siemens column: never guessed."""
    path = tmp_path / "net.edges"
    path.write_text(f"#@ node a role=input voltage=0.8\n#@ node b role=ground\na b {value}\n")
    with pytest.raises(GraphError) as error:
        network.load_edgelist(path)
    message = str(error.value)
    assert message.startswith(
        f"net.edges:3: '{value}' has a SPICE scale suffix but no unit: write {value}ohm"
    )
    assert "siemens" in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a b\n", "expected 'node_a node_b conductance'"),
        ("#@ node a colour=red\n", "bad.edges:1: unknown node attribute 'colour'"),
        ("a b x\n", "number"),
        ("#@ node a role=input voltage=0_8\n", "bad.edges:1: attribute 'voltage' must be a number in V"),
        (
            "#@ node a role=input\n#@ node b role=ground\na b 1e-3\nb a 2e-3\n",
            "bad.edges:4: edge 'b'-'a' appears again \\(first on line 3\\)",
        ),
        ("#@ node a role=input\n#@ node a role=output\n", "bad.edges:2: node 'a' is declared again"),
        ("#@ node a role=input\na b 1_0e-3\n", "bad.edges:2: attribute 'conductance' must be a number in S"),
        (
            "#@ node a role=input\n#@ node b role=ground\na b 1e-3 element=diode\n",
            "bad.edges:3: unknown element 'diode'",
        ),
        ("#@ node a role=input\na b 1e-3\n", "bad.edges:2: node 'b' has no role"),
        ("#@ node a role=input\na a 1e-3\n", "self-loop"),
        ("#@ node a role=input\n#@ node b role=ground\na b 0ohm\n", "bad.edges:3: a resistance must be > 0"),
    ],
)
def test_edgelist_errors(tmp_path, text, match):
    path = tmp_path / "bad.edges"
    path.write_text(text)
    with pytest.raises(GraphError, match=match):
        network.load_graph(path)


GRAPHML = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key id="r" for="node" attr.name="role" attr.type="string"/>
<key id="v" for="node" attr.name="voltage" attr.type="double"/>
<key id="g" for="edge" attr.name="conductance" attr.type="double"/>
<graph edgedefault="undirected">
{body}
</graph></graphml>"""
GOOD_BODY = """<node id="a"><data key="r">input</data><data key="v">0.8</data></node>
<node id="b"><data key="r">output</data></node>
<node id="c"><data key="r">ground</data></node>
<edge source="a" target="b"><data key="g">1e-3</data></edge>
<edge source="b" target="c"><data key="g">1m</data></edge>"""


def test_strict_graphml_reads_a_good_file(tmp_path):
    path = tmp_path / "g.graphml"
    path.write_text(GRAPHML.format(body=GOOD_BODY))
    spec = network.from_graph(network.load_graph(path))
    np.testing.assert_allclose(spec.conductance_s, [1e-3, 1e-3])
    np.testing.assert_allclose(spec.input_voltage_v, [0.8])


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (GOOD_BODY + '\n<node id="b"><data key="r">hidden</data></node>', "node id 'b' appears twice"),
        (
            GOOD_BODY + '\n<edge source="c" target="b"><data key="g">1e-3</data></edge>',
            "edge 'c'-'b' appears twice",
        ),
        (GOOD_BODY.replace(">0.8<", ">0_8<"), "attribute 'voltage' must be a number in V"),
        (GOOD_BODY.replace('<data key="g">1m</data>', '<data key="x">1</data>'), "undeclared key 'x'"),
        (GOOD_BODY + '\n<edge source="a" target="zz"/>', "names node 'zz', which is not declared"),
    ],
)
def test_strict_graphml_errors_name_the_culprit(tmp_path, body, match):
    path = tmp_path / "g.graphml"
    path.write_text(GRAPHML.format(body=body))
    with pytest.raises(GraphError, match=match):
        network.from_graph(network.load_graph(path))


def test_graphml_refuses_entities_and_junk(tmp_path):
    path = tmp_path / "g.graphml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><graphml/>')
    with pytest.raises(GraphError, match="document type declarations"):
        network.load_graph(path)
    path.write_text("<graphml><unclosed>")
    with pytest.raises(GraphError, match="not well-formed XML"):
        network.load_graph(path)


def test_unreadable_files(tmp_path):
    with pytest.raises(GraphError, match="cannot read GraphML"):
        network.load_graph(tmp_path / "missing.graphml")
    with pytest.raises(GraphError, match="cannot read edge list"):
        network.load_edgelist(tmp_path / "missing.edges")


def test_with_conductances_validates_and_clip_respects_bounds(triangle):
    spec = network.from_graph(triangle)
    with pytest.raises(GraphError, match="finite and > 0"):
        spec.with_conductances(np.array([1e-3, -1.0, 1e-3, 1e-3]))
    clipped = spec.clip(np.array([1.0, 1e-9, 1e-3, 1e-3]))
    np.testing.assert_allclose(clipped, [network.DEFAULT_G_MAX_S, network.DEFAULT_G_MIN_S, 1e-3, 1e-3])


def test_drn_structure_pairs_groups_and_per_fan_in_conductances():
    spec = network.from_graph(network.build("drn:3-4-2", seed=1))
    assert len(spec.input_nodes) == 8 and len(spec.output_nodes) == 2 and len(spec.bias_nodes) == 2
    assert len(spec.nodes_with(Role.HIDDEN)) == 4 and len(spec.amplified_nodes) == 8
    assert len(spec.diodes) == 8  # two per hidden node
    assert spec.groups == ("w1", "w2")
    groups = np.array(spec.edge_groups)
    assert np.sum(groups == "w1") == 8 * 4 and np.sum(groups == "w2") == (8 + 2) * 2
    for group, fan_in in (("w1", 8), ("w2", 10)):
        mean = 5e-3 / fan_in
        g = spec.conductance_s[groups == group]
        assert np.all((g >= 0.2 * mean) & (g <= 1.8 * mean))
        np.testing.assert_allclose(spec.g_min_s[groups == group], 0.01 * mean)
        np.testing.assert_allclose(spec.g_max_s[groups == group], 20 * mean)
    follows, gain = spec.node_map
    assert sorted(set(np.abs(gain[list(spec.amplified_nodes)]))) == [4.0]
    assert all(spec.roles[follows[a]] is Role.HIDDEN for a in spec.amplified_nodes)
    hi, lo = spec.bias_voltage_v
    assert 0.3 < hi < 0.4 and 0.1 < lo < 0.2  # 0.5 V - V_on and 0 V + V_on, V_on ~ 0.15 V


def test_drn_graphml_round_trip_keeps_diodes_amplifiers_and_bias(tmp_path):
    spec = network.from_graph(network.build("drn:2-3-2", seed=2))
    path = tmp_path / "drn.graphml"
    network.save_graphml(spec, path)
    again = network.from_graph(network.load_graph(path))
    assert again.labels == tuple(str(label) for label in spec.labels)
    assert again.roles == spec.roles and again.edges == spec.edges
    assert again.diodes == spec.diodes and again.amplifiers == spec.amplifiers
    assert again.edge_groups == spec.edge_groups
    np.testing.assert_allclose(again.bias_voltage_v, spec.bias_voltage_v)
    np.testing.assert_allclose(again.conductance_s, spec.conductance_s)


@pytest.mark.parametrize(
    ("description", "match"), [("drn:3-2", "unknown network"), ("drn:0-2-2", "at least one")]
)
def test_drn_descriptions_are_checked(description, match):
    with pytest.raises(GraphError, match=match):
        network.build(description)


@pytest.mark.parametrize(
    ("line", "match"),
    [
        (
            "in h 5e-3 g_min=1e-4 g_max=2e-3",
            r"edge 'in'-'h': conductance 0.005 S lies outside .* g_max 0.002 S",
        ),
        ("in h 1e-5 g_min=1e-4", r"edge 'in'-'h': conductance 1e-05 S lies outside .* g_min 0.0001 S"),
        ("in h 1", r"edge 'in'-'h': conductance 1 S lies outside .* g_max 0.01 S"),  # the default bounds
    ],
)
def test_an_initial_conductance_outside_its_edges_bounds_is_refused_naming_the_edge(tmp_path, line, match):
    path = tmp_path / "net.edges"
    path.write_text(
        "#@ node in role=input voltage=1\n#@ node out role=output target=0.3\n#@ node gnd role=ground\n"
        f"#@ node h role=hidden\n{line}\nh out 2e-3\nout gnd 1e-3\n"
    )
    with pytest.raises(GraphError, match=match):
        network.from_graph(network.load_graph(path))
    path.write_text(path.read_text().replace(line, "in h 1e-3 g_min=1e-4 g_max=2e-3"))
    assert network.from_graph(network.load_graph(path)).conductance_s[0] == 1e-3


def _drn_with(*, node=None, diode=None):
    """drn:2-3-2 with every amplifier's gain or every diode's attribute replaced by a text, as a file gives it."""
    graph = network.build("drn:2-3-2", seed=2)
    for _, data in graph.nodes(data=True):
        if node is not None and data.get("role") == "amplified":
            data["gain"] = node
    for _, _, data in graph.edges(data=True):
        if diode is not None and data.get("element") == "diode":
            data[diode[0]] = diode[1]
    return graph


@pytest.mark.parametrize(
    ("node", "diode", "match"),
    [
        (
            "1e200",
            None,
            r"amplified node \('a1\+', 0\): gain must be a number of magnitude 1e-06 to 1e\+06",
        ),
        ("-1e7", None, r"amplified node .*gain must be a number of magnitude"),
        ("1e-9", None, r"amplified node .*gain must be a number of magnitude"),
        (None, ("rs_ohm", "1e-320"), r"edge .*attribute 'rs_ohm' must be a number in ohm: number too small"),
        (None, ("is_a", "1e-400"), r"edge .*attribute 'is_a' must be a number in A: number too small"),
    ],
)
def test_extreme_amplifier_gains_and_denormal_diode_values_are_refused_naming_the_element(node, diode, match):
    with pytest.raises(GraphError, match=match):
        network.from_graph(_drn_with(node=node, diode=diode))


def test_denormal_numbers_in_a_python_graph_or_spec_are_refused():
    with pytest.raises(GraphError, match="'rs_ohm' must be finite and not denormal"):
        network.from_graph(_drn_with(diode=("rs_ohm", 1e-320)))
    with pytest.raises(GraphError, match="rs_ohm must be a finite number > 0"):
        network.spec.DiodeSpec(0, 1, rs_ohm=1e-320)
    with pytest.raises(GraphError, match="gain must be a number of magnitude"):
        network.spec.AmplifierSpec(0, 1, 1e200)
