from tinylm.bench import VECTOR_FLAGS, cpu_vector_flags


def test_the_vector_flags_are_read_from_cpuinfo_in_a_fixed_order():
    cpuinfo = (
        "processor\t: 0\nmodel name\t: AMD EPYC\n"
        "flags\t\t: fpu avx512_bf16 sse2 fma avx2 avx512f avx512vl\n\nprocessor\t: 1\n"
    )
    assert cpu_vector_flags(cpuinfo) == ["avx2", "fma", "avx512f", "avx512_bf16"]
    assert cpu_vector_flags("flags\t: fpu sse2 avx avx2 fma\n") == ["avx2", "fma"]
    assert cpu_vector_flags("no flags line here\n") == []


def test_this_machines_flags_are_a_subset_of_the_known_ones():
    assert set(cpu_vector_flags()) <= set(VECTOR_FLAGS)
